//go:build !race

package stack_test

// reedAccounts is how much of socfb-Reed98 the model test loads: accounts
// 0..reedAccounts-1 and the follows among them. The whole graph (962
// accounts, 37,624 follows) passes too but takes about 45 s.
const reedAccounts = 400
