package scan

// PrefetchAhead is prefetchAhead, for the tests of package scan_test.
const PrefetchAhead = prefetchAhead
