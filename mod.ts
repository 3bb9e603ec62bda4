/**
 * skypool: Python's `multiprocessing` API and Lithops' futures API for
 * TypeScript on Deno and Node.
 *
 * @module
 */
export * from "./src/errors.ts";
export { config } from "./src/config.ts";
export type { ConfigUpdate, ParameterName, SkypoolConfig } from "./src/config.ts";
export { Pool } from "./src/pool.ts";
export type { ApplyAsyncOptions, InputIterable, ItemFn, MapAsyncOptions, PoolMapOptions, PoolOptions } from "./src/pool.ts";
export type { PoolStats } from "./src/execution/run_stats.ts";
export type { CancelOptions } from "./src/execution/job_guard.ts";
export { AsyncResult } from "./src/execution/async_result.ts";
export { IMapIterator } from "./src/execution/imap_iterator.ts";
export { FunctionExecutor } from "./src/executor/function_executor.ts";
export type { CleanOptions, GetResultOptions, JobSummary, MapFn, WaitOptions } from "./src/executor/function_executor.ts";
export type { ExecutorConfig, FunctionExecutorOptions } from "./src/executor/executor_options.ts";
export type { CallOptions, MapOptions, MapPartitionOptions, MapReduceOptions } from "./src/executor/call_options.ts";
export { ResponseFuture } from "./src/executor/response_future.ts";
export type { FutureStatus, ResultOptions } from "./src/executor/response_future.ts";
export type { FutureStats } from "./src/executor/future_stats.ts";
export { ALL_COMPLETED, ALWAYS, ANY_COMPLETED } from "./src/executor/wait.ts";
export type { ReturnWhen, WaitResult } from "./src/executor/wait.ts";
export { registerTransport, transportNames } from "./src/execution/transport_registry.ts";
export type { TransportFactory, TransportFactoryOptions } from "./src/execution/transport_registry.ts";
export { Process } from "./src/process.ts";
export type { ProcessOptions } from "./src/process.ts";
export { task, TaskRef } from "./src/task/function_ref.ts";
export type { FunctionRef, SourceOrigin, TaskFn } from "./src/task/function_ref.ts";
export type {
  AnyTransport,
  BatchOutcome,
  InProcessOutcome,
  InProcessTransport,
  StopBatch,
  TaskBatch,
  Transport,
  TransportName,
  WorkerSetup,
  WorkerStats,
} from "./src/transport/transport.ts";
export { RemoteTransport } from "./src/remote/remote_transport.ts";
export type { RemoteTransportOptions } from "./src/remote/remote_transport.ts";
export type { BatchChannel, SendInfo } from "./src/remote/batch_channel.ts";
export { HttpChannel, httpTransport } from "./src/transport/http.ts";
export type { HttpChannelOptions } from "./src/transport/http.ts";
export { LambdaChannel, lambdaTransport } from "./src/transport/lambda.ts";
export type { LambdaChannelOptions, LambdaChannelStats } from "./src/transport/lambda.ts";
export { buildRuntimeZip, deployRuntime, listRuntimes, removeRuntime, updateRuntime } from "./src/remote/lambda_runtime.ts";
export type { RuntimeBuildOptions, RuntimeDeployOptions, RuntimeInfo } from "./src/remote/lambda_runtime.ts";
export type { AwsCredentials, LambdaClientOptions } from "./src/remote/lambda_client.ts";
export type { StateHandle } from "./src/state/handle.ts";
export type { Location } from "./src/state/redis.ts";
export { Lock, RLock } from "./src/state/lock.ts";
export { BoundedSemaphore, Semaphore } from "./src/state/semaphore.ts";
export type { SemLock } from "./src/state/semaphore.ts";
export type { AcquireOptions } from "./src/state/lease.ts";
export { Condition } from "./src/state/condition.ts";
export { Event } from "./src/state/event.ts";
export { Barrier } from "./src/state/barrier.ts";
export type { BarrierOptions } from "./src/state/barrier.ts";
export { JoinableQueue, Queue } from "./src/state/queue.ts";
export type { QueueWaitOptions } from "./src/state/queue.ts";
export { SimpleQueue } from "./src/state/simple_queue.ts";
export { Connection, Pipe } from "./src/state/pipe.ts";
export type { BufferLike, BufferTooShortError } from "./src/state/pipe.ts";
export { RawValue, Value } from "./src/state/value.ts";
export type { LockLike, SynchronizedOptions } from "./src/state/value.ts";
export { RawArray, SharedArray } from "./src/state/shared_array.ts";
export type { ArrayInit } from "./src/state/shared_array.ts";
export type { Typecode, TypecodeInput, TypecodeValue } from "./src/state/typecodes.ts";
export { Manager } from "./src/state/manager.ts";
export { DictProxy } from "./src/state/dict_proxy.ts";
export type { DictInit, DictKey, ManagedProxy } from "./src/state/dict_proxy.ts";
export { ListProxy } from "./src/state/list_proxy.ts";
export { NamespaceProxy } from "./src/state/namespace_proxy.ts";
export { Storage } from "./src/storage/storage.ts";
export type { ByteRange, ListEntry, ObjectInfo, StorageOptions } from "./src/storage/storage.ts";
export type { S3Options } from "./src/storage/s3_options.ts";
export { ObjectNotFoundError } from "./src/storage/storage_errors.ts";
export { isObjectsInput, objects, ObjectsInput } from "./src/storage/objects.ts";
export { DataPartition } from "./src/storage/data_partition.ts";
export type { PartitionRange } from "./src/storage/data_partition.ts";
export { checkPartitionOptions, partitionObjects } from "./src/storage/partitioner.ts";
export type { CheckedPartitionOptions, PartitionOptions } from "./src/storage/partitioner.ts";
export { writePlots } from "./src/executor/plot.ts";
export { startProgress } from "./src/executor/progress_bar.ts";
export type { Progress, ProgressOptions, ProgressStream } from "./src/executor/progress_bar.ts";
