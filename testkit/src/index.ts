export { type Blackhole, startBlackhole } from "./blackhole";
export { CLAUSUM_SECRET, clausumBody, clausumConfig } from "./clausum";
export { ADMIN_URL, REDIS_URL } from "./env";
export { type AddressedResponse, requestFrom } from "./from-address";
export { type Isolated, isolate } from "./isolation";
export {
  type Accepted,
  type LoadOptions,
  type LoadRun,
  type LoadStats,
  type ProviderMessage,
  type RecordingTarget,
  runLoad,
  type SendOutcome,
  sendMessage,
  startRecordingTarget,
  type TargetHit,
} from "./load";
export { createHostNetwork, type Host, type HostNetwork, namespacesUnavailable } from "./netns";
export { makeTestPki, type TestPki } from "./pki";
export {
  type HooklineProcess,
  type LogLine,
  type NodeRun,
  type ProcessExit,
  REPO_ROOT,
  type Runtime,
  runNode,
  type SpawnOptions,
  spawnHookline,
} from "./processes";
export {
  parseResponses,
  type RawExchange,
  type RawOptions,
  type RawPart,
  type RawResponse,
  rawHttp,
} from "./raw-http";
export {
  freePort,
  type PrivatePostgres,
  type PrivateRedis,
  type PrivateRedisCluster,
  startPrivatePostgres,
  startPrivateRedis,
  startPrivateRedisCluster,
} from "./services";
export { type ReceivedRequest, type Sink, type SinkResponder, startSink } from "./sink";
export {
  deliveryQueueIdle,
  LogCapture,
  loadTestConfig,
  observeWorker,
  type Stack,
  type StackOptions,
  type StackShared,
  sendSigned,
  startStack,
} from "./stack";
export { type Closable, closeAll } from "./teardown";
export { eventually } from "./wait";
