// A progress bar on stderr for long work (tuning), silent when stderr is not a terminal or
// when --json is on, so logs and machine output stay clean.

import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, total: number, label: string): void;
  stop(): void;
}

export function progressBar(enabled: boolean, title: string): Progress {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar({
    format: `${title} [{bar}] {value}/{total} {label}`, stream: process.stderr, hideCursor: true, clearOnComplete: false,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    update(done, total, label) {
      if (!started) { bar.start(total, done, { label }); started = true; }
      bar.setTotal(total);
      bar.update(done, { label });
    },
    stop() { if (started) bar.stop(); },
  };
}
