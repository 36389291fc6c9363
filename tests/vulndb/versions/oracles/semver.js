// Oracle: node-semver (Debian's node-semver, NODE_PATH=/usr/share/nodejs). A line with one
// version prints 1 or 0 (valid or not); with two, semver.compare.
const semver = require("semver");
const out = [];
for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
  if (!line) continue;
  const f = line.split("\t");
  out.push(f.length === 1 ? (semver.valid(f[0]) === null ? "0" : "1") : String(semver.compare(f[0], f[1])));
}
process.stdout.write(out.join("\n") + "\n");
