package main

import (
	"fmt"
	"slices"
	"time"
)

// sample is a set of durations with its median and spread.
type sample []time.Duration

func (s sample) sorted() sample {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// quantile by nearest rank on a sorted copy.
func (s sample) quantile(q float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := s.sorted()
	i := int(q*float64(len(c)-1) + 0.5)
	return c[i]
}

func (s sample) median() time.Duration { return s.quantile(0.5) }

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)) }

// spread is "median (p10–p90, n)".
func (s sample) spread() string {
	if len(s) == 0 {
		return "not measured"
	}
	return fmt.Sprintf("%s (%s–%s, n=%d)", ms(s.median()), ms(s.quantile(0.1)), ms(s.quantile(0.9)), len(s))
}

// ratio formats a/b.
func ratio(a, b time.Duration) string {
	if b == 0 || a == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}
