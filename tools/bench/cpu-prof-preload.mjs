// CPU profile of the funnel's services started by `npm start`, which refuses `--cpu-prof` in
// NODE_OPTIONS but passes NODE_OPTIONS to every child. Preload it with
//   NODE_OPTIONS="--import $PWD/tools/bench/cpu-prof-preload.mjs" CPU_PROF_MATCH="logging advertiser" npm start
// Every node process whose command line contains CPU_PROF_MATCH (all of them when unset) profiles
// its main thread from start; `kill -USR2 <pid>` writes what it has to
// CPU_PROF_DIR (default /tmp) as <pid>-<n>.cpuprofile and starts again, and so does exit.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import process from 'node:process';

const match = process.env['CPU_PROF_MATCH'];
if (match === undefined || process.argv.join(' ').includes(match)) {
  const dir = process.env['CPU_PROF_DIR'] ?? '/tmp';
  const session = new Session();
  session.connect();
  let written = 0;
  const start = () => {
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: 1000 });
    session.post('Profiler.start');
  };
  // In-process inspector sessions answer synchronously, so this works in an exit handler too.
  const write = () => {
    session.post('Profiler.stop', (error, result) => {
      if (error !== null) return;
      written += 1;
      writeFileSync(join(dir, `${process.pid}-${written}.cpuprofile`), JSON.stringify(result.profile));
    });
  };
  start();
  process.on('SIGUSR2', () => {
    write();
    start();
  });
  process.on('exit', write);
}
