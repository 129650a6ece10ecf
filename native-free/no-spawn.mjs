// The native-free guard, part 2 (runtime): preloaded with `node --no-addons --import`, it makes any
// attempt to start a process throw, so a run that succeeds proves none was started.
import childProcess from 'node:child_process';
import { syncBuiltinESMExports } from 'node:module';

for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork']) {
  childProcess[name] = () => {
    throw new Error(`native-free: child_process.${name} was called`);
  };
}
syncBuiltinESMExports();
