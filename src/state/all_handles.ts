/**
 * Loads every module that registers a handle kind with the codec (the
 * shared-state classes and data partitions). Workers import this lazily,
 * the first time a payload names a handle kind they do not know yet.
 *
 * @module
 */
import "./lock.ts";
import "./semaphore.ts";
import "./condition.ts";
import "./event.ts";
import "./barrier.ts";
import "./queue.ts";
import "./simple_queue.ts";
import "./pipe.ts";
import "./value.ts";
import "./shared_array.ts";
import "./manager.ts";
import "../storage/data_partition.ts";
