"""parliament, the IAM policy linter, on the policy document given as the
argument: prints its findings as its command line does and exits 1 if
there are any. Through its library, because its command line writes a log
to a fixed /tmp/parliament.log, which fails when another user's run left
one there."""

import sys

from parliament import analyze_policy_string, config, enhance_finding
from parliament.cli import is_finding_filtered, print_finding

policy = analyze_policy_string(sys.argv[1], include_community_auditors=False, config=config)
findings = [f for f in map(enhance_finding, policy.findings) if not is_finding_filtered(f)]
for finding in findings:
    print_finding(finding)
sys.exit(1 if findings else 0)
