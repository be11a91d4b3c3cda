#!/usr/bin/env bash
# unity-check.sh [BUILD_DIR]: lists the names that clash in the unity build
# (GRPO_UNITY, the default): two .cpp files of one target that each define the
# same anonymous-namespace or static helper, a file-scope `using namespace`
# that makes a name ambiguous, a macro defined twice. It configures BUILD_DIR
# (default build-unity-check) with one batch per target, the strictest grouping,
# builds the LibTorch PCH, then only parses each batch (-fsyntax-only: ~1/5 of
# the CPU of compiling it), so every clash any batch size could meet shows up.
# A clash reads "redefinition of 'NAME'" (clang) or "redefinition of ..." /
# "conflicting declaration" (GCC), with the two files in the notes; rename the
# helper after its file's subject, or move a shared one to a header.
# Environment: JOBS parallel parses (default 1); CXX as for configure.sh.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-$root/build-unity-check}
"$root/scripts/configure.sh" "$build" -DGRPO_UNITY=ON -DGRPO_UNITY_BATCH_SIZE=0 > /dev/null
ninja -C "$build" grpo_torch_pch > /dev/null
# One shell command per batch, from the compilation database.
python3 - "$build/compile_commands.json" > "$build/unity-check.commands" <<'EOF'
import json, re, shlex, sys
for entry in json.load(open(sys.argv[1])):
    if re.search(r"/unity_\d+_cxx\.cxx$", entry["file"]):
        # clang stops after 20 errors by default; GCC has no limit.
        limit = " -ferror-limit=0" if "clang" in entry["command"].split()[0] else ""
        print(f"cd {shlex.quote(entry['directory'])} && {entry['command']} -fsyntax-only{limit}")
EOF
echo "unity-check: parsing $(wc -l < "$build/unity-check.commands") batches" >&2
if xargs -d '\n' -P "${JOBS:-1}" -I{} bash -c {} < "$build/unity-check.commands"; then
  echo "unity-check: no clash" >&2
else
  echo "unity-check: clashes above" >&2
  exit 1
fi
