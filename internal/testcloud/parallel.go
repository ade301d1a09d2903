package testcloud

import "sync"

// Parallel runs f n times concurrently, all released at once, and returns
// their errors in call order.
func Parallel(n int, f func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { <-start; errs[i] = f(i) })
	}
	close(start)
	wg.Wait()
	return errs
}
