package ivr

// Registered is the number of calls registered with the dispatcher, for
// the leak checks of the external tests.
func (f *Flow) Registered() int { return f.disp.registered() }
