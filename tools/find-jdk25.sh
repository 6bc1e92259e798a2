# Sourced by ./lora4j, ./run-tests and .ci/run: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 25+, then `java` on PATH, then the usual install places.

# JIT directives every lora4j JVM should run with. Without them C2 sometimes compiles the element-wise
# kernels (activations, add, mul, RMSNorm backward) with their vector operations not intrinsified, and
# every vector operation then allocates: a training step makes ~1.1 GB of garbage and runs 3-4x slower.
# Issue 12 moved exp/erfc to array loops so that no vector crosses one of our calls, but a plain JVM
# still showed the boxing in 2 of 3 training-step runs (JFR: Elementwise.mulRow/addRow, Activations.silu,
# RmsNorm.backwardRow, in lanewiseTemplate), so the flags stay until that is understood. (The same
# flags are in the root pom's lora4j.jvm.flags for the tests.)
LORA4J_JIT_FLAGS="-XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.lora4j.kernels.VecMath::* -XX:CompileCommand=inline,dev.lora4j.kernels.Erf::* -XX:CompileCommand=inline,dev.lora4j.kernels.Vec::*"

lora4j_java_major() {  # prints the feature version of the java binary $1, or nothing
  # the JDK's release file when there is one: starting a JVM just to ask costs 0.2-0.4 s per launch
  local release
  release="$(dirname "$(dirname "$1")")/release"
  if [ -f "$release" ] && grep -q '^JAVA_VERSION="[0-9]' "$release"; then
    sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$release" | head -n1
    return
  fi
  "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p' | head -n1
}

lora4j_find_jdk25() {
  local candidate major
  local -a candidates=()
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for candidate in /usr/lib/jvm/* /opt/java/* /opt/jdk* /usr/local/java/* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/*; do
    [ -d "$candidate" ] && candidates+=("$candidate")
  done
  for candidate in "${candidates[@]}"; do
    if [ -x "$candidate/bin/java" ] && [ -x "$candidate/bin/javac" ]; then
      major=$(lora4j_java_major "$candidate/bin/java")
      if [ -n "$major" ] && [ "$major" -ge 25 ]; then
        export JAVA_HOME="$candidate"
        return 0
      fi
    fi
  done
  echo "lora4j needs a JDK 25 or newer (it uses the Vector API and the FFM API)." >&2
  echo "None was found in JAVA_HOME, on PATH or under /usr/lib/jvm." >&2
  echo "Install one, e.g. 'apt-get install temurin-25-jdk' (Adoptium repository) or from https://adoptium.net," >&2
  echo "then run again or set JAVA_HOME to it." >&2
  return 1
}
