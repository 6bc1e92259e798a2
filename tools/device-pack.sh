#!/usr/bin/env bash
# Builds the folder tools/device-bench.sh runs from, for a host with python3 + torch but no JDK:
#   DEST/jdk   a Java 25 runtime made by jlink (the modules lora4j and its benchmarks use), ~45 MB
#   DEST/lib   lora4j-core, lora4j-bench and Jackson jars (no OpenBLAS, no JMH)
#   DEST/*.sh, *.py   the benchmark scripts
# Usage: tools/device-pack.sh DEST    (builds lora4j-bench with Maven first)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${1:?usage: device-pack.sh DEST}"
. tools/find-jdk25.sh
lora4j_find_jdk25
export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
mvn -B -q -ntp -pl lora4j-bench -am package -Dmaven.test.skip=true >&2
mkdir -p "$dest"
if [[ ! -x "$dest/jdk/bin/java" ]]; then
  # jdeps on the jars also names java.desktop and java.sql: Jackson's optional java.beans and
  # java.sql support, which it looks up reflectively and does without (that saves ~20 MB).
  "$JAVA_HOME/bin/jlink" --add-modules java.base,java.management,jdk.management,jdk.incubator.vector,jdk.unsupported,java.logging \
    --strip-debug --no-man-pages --no-header-files --compress zip-9 --output "$dest/jdk"
fi
rm -rf "$dest/lib"
mkdir -p "$dest/lib"
cp lora4j-bench/target/lora4j-bench.jar lora4j-bench/target/lib/lora4j-core-*.jar lora4j-bench/target/lib/jackson-*.jar "$dest/lib/"
cp tools/device-bench.sh tools/bench/torch_matmul.py tools/bench/make_bench_model.py tools/bench/peft_train_step.py "$dest/"
du -sh "$dest" >&2
