import gi
