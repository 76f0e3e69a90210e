"""The module's own ns-3 TestSuite (ns3_modules/space-xnet/test), run by ns-3's TestRunner."""

from harness.cxx.runtime import run_cxx_test_suite


def test_space_xnet_ns3_test_suite_passes():
    done = run_cxx_test_suite("space-xnet")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "PASS space-xnet" in done.stdout
    assert "FAIL" not in done.stdout


def test_ns3_test_runner_reports_an_unknown_suite_as_a_failure():
    # Guards the wrapper itself: a suite that does not exist must not read as a pass.
    done = run_cxx_test_suite("no-such-suite")
    assert done.returncode != 0
    assert "PASS" not in done.stdout
