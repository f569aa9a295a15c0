// The dashboard's actions: every POST a signed-in page makes (retry, bulk retry, replay, pause,
// resume), each through the same operation as the admin API, answered with a flash message.

import { type AuditActor, getDeliveryDetail } from "@hookline/db";
import type { Logger } from "@hookline/logger";
import {
  type AdminApp,
  type AdminContext,
  MAX_PAUSE_REASON,
  parseDeliveryFilterParams,
  readPauseReason,
  replayEvent,
  retryMany,
  retryOne,
  setPaused,
} from "@hookline/operations";
import { type C, type Form, field, fields, idParam, MAX_SELECTED, plural } from "./http";
import { type Flash, shortId } from "./views/parts";

export interface ActionDeps {
  readonly ctx: AdminContext;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * Wraps a handler: a session allowed to change things, a same-origin request, the CSRF token;
   * then the flash and back. The handler gets who the audit log names.
   */
  readonly action: (
    handler: (c: C, form: Form, actor: AuditActor) => Promise<Flash>,
  ) => (c: C) => Promise<Response>;
}

export function mountActions(app: AdminApp, deps: ActionDeps): void {
  const { ctx, logger, now, action } = deps;

  for (const paused of [true, false]) {
    app.post(
      `/targets/:id/${paused ? "pause" : "resume"}`,
      action(async (c, form, actor) => {
        const id = idParam(c);
        const read = readPauseReason(field(form, "reason")?.trim());
        if (paused && !read.ok)
          return { kind: "error", text: `A reason is one line of at most ${MAX_PAUSE_REASON} characters.` };
        const target = await setPaused(
          ctx,
          actor,
          id,
          paused ? { paused: true, reason: read.ok ? read.reason : null } : { paused: false },
        );
        if (!target) return { kind: "error", text: `There is no configured target ${id.slice(0, 64)}.` };
        logger.info(
          { requestId: c.get("requestId"), target: id },
          `dashboard: target ${paused ? "paused" : "resumed"}`,
        );
        return paused
          ? {
              kind: "ok",
              text: `${id} is paused: its new deliveries are created and wait; every worker stops sending within a second.`,
            }
          : { kind: "ok", text: `${id} is resumed: ${target.backlog} waiting deliveries go out now.` };
      }),
    );
  }

  app.post(
    "/deliveries/:id/retry",
    action(async (c, _form, actor) => {
      const id = idParam(c);
      const result = await retryOne(ctx, actor, id);
      switch (result.kind) {
        case "retried": {
          logger.info(
            { requestId: c.get("requestId"), delivery: id, run: result.run.runNumber },
            "dashboard: delivery retried",
          );
          const found = await getDeliveryDetail(ctx.database.db, id);
          return {
            kind: "ok",
            text: `Delivery ${shortId(id)} to ${result.run.targetId} is queued again (run ${result.run.runNumber}).`,
            ...(found
              ? { href: `/events/${found.delivery.eventId}#delivery-${id}`, linkText: "Watch it" }
              : {}),
          };
        }
        case "not_found":
          return { kind: "error", text: `There is no delivery ${id.slice(0, 64)}.` };
        case "succeeded":
          return {
            kind: "error",
            text: "That delivery already succeeded. To send the event again, replay it.",
          };
        case "target_not_configured":
          return {
            kind: "error",
            text: `The delivery's target "${result.targetId}" is no longer configured, so it cannot be retried.`,
          };
        case "transform_failed":
          return {
            kind: "error",
            text: "Its route's transform failed, so it has nothing to send. Replay the event to apply the transform again.",
          };
        default: {
          const exhaustive: never = result;
          return exhaustive;
        }
      }
    }),
  );

  app.post(
    "/deliveries/retry",
    action(async (c, form, actor) => {
      if (field(form, "scope") === "matching") {
        const parsed = parseDeliveryFilterParams(
          {
            status: field(form, "filter_status"),
            target: field(form, "filter_target"),
            source: field(form, "filter_source"),
            since: field(form, "filter_since"),
            event: field(form, "filter_event"),
          },
          now(),
        );
        if (!parsed.ok) return { kind: "error", text: parsed.message };
        const result = await retryMany(ctx, actor, parsed.value);
        if (result.kind !== "retried") {
          return {
            kind: "error",
            text: "Succeeded deliveries are not retried in bulk; replay their events.",
          };
        }
        logger.info({ requestId: c.get("requestId"), retried: result.retried }, "dashboard: bulk retry");
        return { kind: "ok", text: `${plural(result.retried, "delivery", "deliveries")} queued again.` };
      }
      const ids = [...new Set(fields(form, "id"))];
      if (ids.length === 0) return { kind: "error", text: "Select at least one delivery to retry." };
      if (ids.length > MAX_SELECTED) {
        return { kind: "error", text: `Select at most ${MAX_SELECTED}; use "Retry all matching" for more.` };
      }
      let retried = 0;
      const skipped: string[] = [];
      for (const id of ids) {
        const result = await retryOne(ctx, actor, id);
        if (result.kind === "retried") retried++;
        else skipped.push(shortId(id));
      }
      logger.info(
        { requestId: c.get("requestId"), retried, skipped: skipped.length },
        "dashboard: retried selected",
      );
      const text = `${plural(retried, "delivery", "deliveries")} queued again.${
        skipped.length
          ? ` Skipped ${skipped.length} that changed meanwhile: ${skipped.slice(0, 5).join(", ")}.`
          : ""
      }`;
      return { kind: skipped.length && !retried ? "error" : "ok", text };
    }),
  );

  app.post(
    "/events/:id/replay",
    action(async (c, form, actor) => {
      const id = idParam(c);
      const target = field(form, "target")?.trim();
      const result = await replayEvent(ctx, actor, id, target ? [target] : undefined);
      switch (result.kind) {
        case "not_found":
          return { kind: "error", text: `There is no event ${id.slice(0, 64)}.` };
        case "unknown_targets":
          return {
            kind: "error",
            text: `No target named ${result.targets.join(", ").slice(0, 100)} is configured.`,
          };
        case "replayed": {
          if (result.runs.length === 0) {
            return {
              kind: "error",
              text: "No route selects this event today; choose a target to replay it to.",
            };
          }
          logger.info(
            { requestId: c.get("requestId"), eventId: id, deliveries: result.runs.map((r) => r.id) },
            "dashboard: event replayed",
          );
          return {
            kind: "ok",
            text: `Replayed to ${result.runs.map((r) => r.targetId).join(", ")}: ${plural(
              result.runs.length,
              "new delivery",
              "new deliveries",
            )}.`,
            href: `/events/${id}#deliveries`,
            linkText: "Watch it",
          };
        }
        default: {
          const exhaustive: never = result;
          return exhaustive;
        }
      }
    }),
  );
}
