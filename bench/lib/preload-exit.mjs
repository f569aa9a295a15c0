// Loaded into Hookline's processes by the bench (node --import): SIGUSR2 exits at once,
// normally, so `--cpu-prof` still writes its profile when something keeps the process alive
// after a graceful stop.
process.on("SIGUSR2", () => process.exit(0));
