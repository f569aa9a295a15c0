// Closing a BullMQ queue that shares its caller's connection.

/** What closeQueue needs of a BullMQ Queue (or Worker). */
export interface Closable {
  waitUntilReady(): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Closes `queue` once its start-up (BullMQ checks the Redis version as soon as the connection is
 * up) has settled. BullMQ 5 removes a queue's listeners when it closes; on a shared connection a
 * start-up still in flight then fails once the caller disconnects, and its 'error' had no
 * listener left: the process crashed ("Stream isn't writeable and enableOfflineQueue options is
 * false", seen from `hookline pause` in CI). Settled first, a failed start-up is reported to the
 * queue's own 'error' listener instead.
 */
export async function closeQueue(queue: Closable): Promise<void> {
  await queue.waitUntilReady().catch(() => {});
  await queue.close();
}
