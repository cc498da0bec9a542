import Concurry from "gi://Concurry?version=1";
