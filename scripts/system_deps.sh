#!/usr/bin/env bash
# What the test suite needs beyond Python, installed through apt when missing (`make test` runs this
# before pytest; `make run` needs neither):
#   chromium                Debian's browser, which Playwright drives in tests/test_web_browser.py
#                           (no browser is downloaded);
#   java 17 or newer        the Spark engine's tests run a local Spark session (PySpark 4).
# As root with apt-get: one line saying what is installed and why, then a quiet apt-get (its output is
# written to a log, named in the error, only when it fails). Otherwise, or when the install fails: one
# line `error: …` on stderr and exit code 1, before any test starts. Nothing missing: silent, exit 0.
# Uses only bash, `id`, `apt-get` and `java` (tests/test_system_deps.py runs it on a PATH of stubs).
set -uo pipefail

JAVA_MIN=17

java_major() {  # the major version of `java` on PATH ("1.8.0_x" is 8), else nothing
    local out
    out=$(java -version 2>&1) || return 0
    if [[ $out =~ version\ \"([0-9]+)(\.([0-9]+))? ]]; then
        if [[ ${BASH_REMATCH[1]} == 1 && -n ${BASH_REMATCH[3]} ]]; then
            echo "${BASH_REMATCH[3]}"
        else
            echo "${BASH_REMATCH[1]}"
        fi
    fi
}

java_ok() {
    local major
    command -v java >/dev/null 2>&1 || return 1
    major=$(java_major)
    [[ -n $major && $major -ge $JAVA_MIN ]]
}

missing() {  # sets `packages` (apt packages to install) and `why` (one reason each)
    packages=()
    why=()
    if ! command -v chromium >/dev/null 2>&1; then
        packages+=(chromium)
        why+=("chromium is missing (the browser tests need it)")
    fi
    if ! java_ok; then
        packages+=(default-jre-headless)
        if ! command -v java >/dev/null 2>&1; then
            why+=("java is missing (the Spark engine's tests need a Java runtime ${JAVA_MIN}+)")
        elif [[ -z $(java_major) ]]; then
            why+=("java's version cannot be read (the Spark engine's tests need a Java runtime ${JAVA_MIN}+)")
        else
            why+=("java $(java_major) is older than the ${JAVA_MIN} the Spark engine's tests need")
        fi
    fi
}

joined() {  # "a; b" from the arguments
    local IFS=";"
    local text="$*"
    echo "${text//;/; }"
}

missing
[[ ${#packages[@]} -eq 0 ]] && exit 0

command_line="apt-get install -y ${packages[*]}"
if [[ $(id -u 2>/dev/null) != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    echo "error: $(joined "${why[@]}"): run '${command_line}' as root" >&2
    exit 1
fi

echo "installing ${packages[*]} with apt-get: $(joined "${why[@]}")"
log="${TMPDIR:-/tmp}/movierec-apt-$$.log"  # written only when something went wrong
if ! output=$({ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}"; } 2>&1)
then
    printf '%s\n' "$output" >"$log"
    echo "error: '${command_line}' failed (its output: ${log}): install them by hand, then run make test again" >&2
    exit 1
fi

missing
if [[ ${#packages[@]} -gt 0 ]]; then
    printf '%s\n' "$output" >"$log"
    echo "error: $(joined "${why[@]}") after '${command_line}' (its output: ${log})" >&2
    exit 1
fi
