package ariapp

// Activity is the number of events the app has handled so far; tests
// wait for it to stop moving before they advance the fake clock.
func (a *App) Activity() uint64 { return a.activity.Load() }

// Tracked is the number of channels the app still follows.
func (a *App) Tracked() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.chans)
}
