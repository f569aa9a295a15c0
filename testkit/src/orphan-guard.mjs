// Preloaded into every hookline child a test starts (see processes.ts): when the test process
// that started it is gone (a crash, a timeout, a killed runner), the child goes too, so no test
// ever leaves a gateway or worker running behind it.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.kill(process.pid, "SIGKILL");
}, 500).unref();
