"""The Qt side of blind listening tests: the test runner, one widget per test type, the results view, the menu."""
