package asterisk

import (
	"fmt"
	"os"
	"path/filepath"
)

// File modes of the written files: secrets readable by their owner only
// (run the generator as Asterisk's user, or chown the files to it).
const (
	ModeSecret = 0o600
	ModePublic = 0o644
)

// Write writes files into dir (created 0750 if missing). Each file goes to
// a temporary name in dir first, gets its mode, and is renamed over the old
// one, so Asterisk reloading meanwhile reads either the old file or the new
// one, and a secret is never readable by others, not even for an instant.
func Write(dir string, files []File) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("asterisk: %w", err)
	}
	for _, f := range files {
		if err := writeFile(dir, f); err != nil {
			return fmt.Errorf("asterisk: writing %s: %w", f.Name, err)
		}
	}
	return nil
}

func writeFile(dir string, f File) (err error) {
	mode := os.FileMode(ModePublic)
	if f.Secret {
		mode = ModeSecret
	}
	tmp, err := os.CreateTemp(dir, "."+f.Name+".*") // created 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(f.Data); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, f.Name))
}
