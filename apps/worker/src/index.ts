// What the CLI and the tests start: the worker. Its circuit, forwarding and retry policy are its own.
export { type RunningWorker, startWorker, type WorkerObserver, type WorkerRunOptions } from "./worker";
