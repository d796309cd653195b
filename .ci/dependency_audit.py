"""CI: known vulnerabilities of the installed dependencies, with pip-audit (PyPI's advisories).

Fails on any known vulnerability. A dependency pip-audit could not look up (PyPI unreachable,
or an index without the per-release JSON API) is reported loudly; it fails the run only when
ABIS_REQUIRE_DEPENDENCY_AUDIT=1, since an offline CI machine cannot audit at all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    done = subprocess.run(
        [str(BIN / "pip-audit"), "--vulnerability-service", "pypi", "--skip-editable",
         "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600, check=False)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(f"pip-audit did not run: {done.stderr.strip()[-2000:]}", file=sys.stderr)
        return 1
    dependencies = [d for d in report["dependencies"] if d["name"] != "abis"]  # this project
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if "skip_reason" in d]
    for dependency in vulnerable:
        for vuln in dependency["vulns"]:
            print(f"VULNERABLE {dependency['name']} {dependency['version']}: {vuln['id']} "
                  f"(fixed in {', '.join(vuln.get('fix_versions') or ['-'])})")
    audited = len(dependencies) - len(skipped)
    print(f"dependency audit: {audited} of {len(dependencies)} packages audited, "
          f"{len(vulnerable)} with known vulnerabilities")
    if skipped:
        print(f"WARNING: {len(skipped)} packages could not be audited, e.g. "
              f"{skipped[0]['name']}: {skipped[0]['skip_reason']}", file=sys.stderr)
        if os.environ.get("ABIS_REQUIRE_DEPENDENCY_AUDIT") == "1":
            return 1
    return 1 if vulnerable else 0


if __name__ == "__main__":
    sys.exit(main())
