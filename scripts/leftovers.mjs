// What a test run left behind: skypool temp folders and socket folders, and
// processes (worker subprocesses, redis-servers the tests started). CI takes
// a snapshot before the tests and checks after them, so that what was on the
// machine already does not count.
//
//   node scripts/leftovers.mjs snapshot FILE   record what exists now
//   node scripts/leftovers.mjs check FILE      fail if anything new is left
//
// Linux only (/proc): this is the CI machine's check, not a library feature.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";

const WORKER = /subprocess_main\.(?:js|ts)/;
const TEMP = /^skypool/;

function processes() {
  const found = {};
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      continue; // gone meanwhile
    }
    if (WORKER.test(cmd) || /(^|\/)redis-server /.test(cmd)) found[pid] = cmd;
  }
  return found;
}

function tempEntries() {
  const dirs = new Set([tmpdir(), "/tmp"]);
  return [...dirs].flatMap((d) => readdirSync(d).filter((n) => TEMP.test(n)).map((n) => `${d}/${n}`));
}

function snapshot() {
  return { processes: processes(), temp: tempEntries() };
}

const [mode, file] = process.argv.slice(2);
if (mode === "snapshot") {
  writeFileSync(file, JSON.stringify(snapshot()));
} else if (mode === "check") {
  const before = JSON.parse(readFileSync(file, "utf8"));
  // Processes and folders may take a moment to go after the last test ends.
  let left;
  for (let i = 0; i < 20; i++) {
    const now = snapshot();
    left = {
      processes: Object.entries(now.processes).filter(([pid, cmd]) => before.processes[pid] !== cmd),
      temp: now.temp.filter((t) => !before.temp.includes(t)),
    };
    if (left.processes.length === 0 && left.temp.length === 0) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  if (left.processes.length > 0 || left.temp.length > 0) {
    for (const [pid, cmd] of left.processes) console.error(`left running: pid ${pid}: ${cmd}`);
    for (const t of left.temp) console.error(`left on disk: ${t}`);
    process.exit(1);
  }
  console.log("leftovers: no process, socket folder or temp folder left by the tests");
} else {
  console.error("usage: node scripts/leftovers.mjs snapshot|check FILE");
  process.exit(2);
}
