import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * A command's arguments: its flags, as `options` declares them (an unknown flag is an error),
 * and what stands alone (ids, file names) in order.
 */
export function parseCommandArgs<const O extends NonNullable<ParseArgsConfig["options"]>>(
  args: readonly string[],
  options: O,
) {
  return parseArgs({ args: [...args], allowPositionals: true, options });
}
