//go:build race

package stack_test

// reedAccounts is how much of socfb-Reed98 the model test loads: accounts
// 0..reedAccounts-1 and the follows among them. The race detector slows
// the stack about fivefold, so it gets a smaller slice.
const reedAccounts = 120
