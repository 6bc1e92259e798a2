# Sourced by ./lora4j, ./run-tests and .ci/run: finds a JDK 25 or newer and exports JAVA_HOME.
# Order: $JAVA_HOME if it is 25+, then `java` on PATH, then the usual install places.

# JIT directives every lora4j JVM should run with. The element-wise kernels (activations, softmax)
# call small vector functions (VecMath.exp, Erf.erfc); whenever C2 declines to inline one of them
# (it does when the callee already has a large compiled body of its own, which depends on the order
# of background compilations), every vector passed to it is boxed on the heap: a training step then
# allocates hundreds of MB of garbage and runs 5-40x slower in those kernels. Forcing the inlining
# makes that deterministic. (The same flags are in the root pom's lora4j.jvm.flags for the tests.)
LORA4J_JIT_FLAGS="-XX:CompileCommand=quiet -XX:CompileCommand=inline,dev.lora4j.kernels.VecMath::* -XX:CompileCommand=inline,dev.lora4j.kernels.Erf::* -XX:CompileCommand=inline,dev.lora4j.kernels.Vec::*"

lora4j_java_major() {  # prints the feature version of the java binary $1, or nothing
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
