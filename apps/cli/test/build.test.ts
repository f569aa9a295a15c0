// scripts/build.mjs as `pnpm start` and `pnpm hookline` run it: several processes starting at
// once on a stale tree build once (the others wait for the lock, then find the build fresh), and
// a fresh build is left alone.
import { randomBytes } from "node:crypto";
import { existsSync, rmSync, utimesSync } from "node:fs";
import { join } from "node:path";
import { REPO_ROOT, runNode } from "@hookline/testkit";
import { afterAll, describe, expect, it } from "vitest";

const OUT = `dist-test-${randomBytes(4).toString("hex")}`;

const run = (file: string, ...args: string[]) => runNode([file, ...args]);

afterAll(() => {
  rmSync(join(REPO_ROOT, OUT), { recursive: true, force: true });
  rmSync(join(REPO_ROOT, `${OUT}.lock`), { force: true });
});

describe("scripts/build.mjs", () => {
  it("three processes on a stale tree: one builds, the others wait and find it fresh", async () => {
    const runs = await Promise.all([1, 2, 3].map(() => run("scripts/build.mjs", "--if-stale", "--out", OUT)));
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(runs.filter((r) => r.stderr.includes("compiled to")).length).toBe(1);
    expect(existsSync(join(REPO_ROOT, `${OUT}.lock`))).toBe(false);
    const help = await run(join(OUT, "hookline.mjs"), "help");
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: hookline <command>");
  });

  it("leaves a fresh build alone, and rebuilds one older than its sources", async () => {
    const fresh = await run("scripts/build.mjs", "--if-stale", "--out", OUT);
    expect(fresh).toMatchObject({ code: 0, stderr: "" });
    const old = new Date(Date.now() - 365 * 24 * 3600 * 1000);
    utimesSync(join(REPO_ROOT, OUT, "inputs.json"), old, old);
    const stale = await run("scripts/build.mjs", "--if-stale", "--out", OUT);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toContain(`compiled to ${OUT}/`);
  });
});
