// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Hand-written additions to concurry-1.vapi, merged by vapigen with what it
// reads from Concurry-1.gir and Concurry-1.metadata.

namespace Concurry {
	/**
	 * A read-only GLib.Value: the value handed to Future.map and Executor.map
	 * callbacks, which C passes as `const GValue *`.
	 *
	 * It has every method of GLib.Value that reads, and copies into a
	 * GLib.Value by assignment.
	 */
	[CCode (cname = "GValue", type_id = "G_TYPE_VALUE")]
	[Immutable]
	[Version (since = "0.2")]
	public struct ConstValue : GLib.Value {
	}

	// `foreach (var f in Concurry.as_completed (futures, timeout))` blocks
	// for each future in turn, like AsCompleted.next ().
	public sealed class AsCompleted : GLib.Object {
		[CCode (cname = "g_object_ref")]
		[Version (since = "0.2")]
		public Concurry.AsCompleted iterator ();
		[CCode (cname = "concurry_as_completed_next")]
		[Version (since = "0.2")]
		public Concurry.Future? next_value () throws GLib.Error;
	}

	// `foreach (var v in results)` over the results of Executor.map ().
	public sealed class MapResults : GLib.Object {
		[CCode (cname = "g_object_ref")]
		[Version (since = "0.2")]
		public Concurry.MapResults iterator ();
	}

	// The C constructors return the interface type; in Vala they are
	// creation methods of their class.
	public sealed class ThreadPoolExecutor : GLib.Object {
		[CCode (cname = "concurry_thread_pool_executor_new", has_construct_function = false, type = "ConcurryExecutor*")]
		[Version (since = "0.2")]
		public ThreadPoolExecutor (uint max_workers);
	}

	public sealed class TaskExecutor : GLib.Object {
		[CCode (cname = "concurry_task_executor_new", has_construct_function = false, type = "ConcurryExecutor*")]
		[Version (since = "0.2")]
		public TaskExecutor ();
	}

	public sealed class MainContextExecutor : GLib.Object {
		[CCode (cname = "concurry_main_context_executor_new", has_construct_function = false, type = "ConcurryExecutor*")]
		[Version (since = "0.2")]
		public MainContextExecutor (GLib.MainContext? context);
	}

	public sealed class ResolvedFuture : GLib.Object {
		[CCode (cname = "concurry_resolved_future_new", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture (GLib.Value? value);
		[CCode (cname = "concurry_resolved_future_new_boolean", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.boolean (bool value);
		[CCode (cname = "concurry_resolved_future_new_int", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.int (int value);
		[CCode (cname = "concurry_resolved_future_new_uint", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.uint (uint value);
		[CCode (cname = "concurry_resolved_future_new_int64", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.int64 (int64 value);
		[CCode (cname = "concurry_resolved_future_new_uint64", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.uint64 (uint64 value);
		[CCode (cname = "concurry_resolved_future_new_double", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.double (double value);
		[CCode (cname = "concurry_resolved_future_new_string", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.string (string? value);
		[CCode (cname = "concurry_resolved_future_new_object", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.object (GLib.Object? value);
		[CCode (cname = "concurry_resolved_future_new_pointer", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.pointer (void* value);
		[CCode (cname = "concurry_resolved_future_new_variant", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.variant (GLib.Variant? value);
		[CCode (cname = "concurry_resolved_future_new_error", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.error (GLib.Error error);
		[CCode (cname = "concurry_resolved_future_new_error_literal", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.error_literal (GLib.Quark domain, int code, string message);
		[CCode (cname = "concurry_resolved_future_new_take_error", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.take_error (owned GLib.Error error);
		[CCode (cname = "concurry_resolved_future_new_take_value", has_construct_function = false, type = "ConcurryFuture*")]
		[Version (since = "0.2")]
		public ResolvedFuture.take_value (owned GLib.Value value);
	}
}
