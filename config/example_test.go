package config_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/helpline-it/helpline/config"
)

// A configuration is parsed once at start-up; the language menu then asks
// it which languages are open at the moment a call arrives.
func ExampleConfig_OpenLanguages() {
	c, err := config.Parse("helpline.yaml", config.ExampleYAML())
	if err != nil {
		fmt.Println(err)
		return
	}
	rome := c.Location
	for _, at := range []time.Time{
		time.Date(2025, 6, 9, 10, 30, 0, 0, rome),  // Monday morning
		time.Date(2025, 6, 10, 19, 59, 0, 0, rome), // Tuesday, English's last minute
		time.Date(2025, 6, 10, 20, 0, 0, 0, rome),  // Tuesday, English closed
		time.Date(2025, 6, 14, 11, 0, 0, 0, rome),  // Saturday
	} {
		fmt.Println(at.Format("Mon 15:04"), c.OpenLanguages(at))
	}
	// Output:
	// Mon 10:30 [it en fr es ar de]
	// Tue 19:59 [it en]
	// Tue 20:00 [it]
	// Sat 11:00 [it]
}

// Every problem in a file is reported at once, each on its own line.
func ExampleParse_errors() {
	_, err := config.Parse("helpline.yaml", []byte(`service: "1522"
ari:
  url: http://127.0.0.1:8088
  username: helpline
  password: hunter2
privacy:
  hmac_key_env: HELPLINE_HMAC_KEY
languages:
  it: {digit: 1, hours: always}
  fr:
    digit: 1
    hours:
      - {days: [mon-fri], from: "25:00", to: "14:00"}
queue:
  ring_timeout: 0s
operators:
  - {id: op1, endpoint: PJSIP/op1, languages: [it, fr]}
`))
	fmt.Println(err)
	var errs config.Errors
	if errors.As(err, &errs) {
		fmt.Println(len(errs), "problems; the first is on line", errs[0].Line)
	}
	// Output:
	// helpline.yaml:5: ari.password: secrets must not be written in the configuration file; set password_env (the name of an environment variable) or password_file (the path of a file) instead
	// helpline.yaml:11: languages.fr.digit: digit 1 is already used by languages.it
	// helpline.yaml:13: languages.fr.hours[0].from: "25:00" is not a time of day
	// helpline.yaml:15: queue.ring_timeout: must be greater than 0
	// 4 problems; the first is on line 5
}

// Secrets are resolved separately, from the environment or files, and
// never print.
func ExampleConfig_Secrets() {
	c, err := config.Parse("helpline.yaml", config.ExampleYAML())
	if err != nil {
		fmt.Println(err)
		return
	}
	env := map[string]string{"HELPLINE_ARI_PASSWORD": "s3cret"}
	_, err = c.Secrets(func(k string) string { return env[k] })
	fmt.Println(err)

	env["HELPLINE_HMAC_KEY"] = "7f2c9a0e4b1d8c3f6a5e2d9b0c7f4a1e"
	s, err := c.Secrets(func(k string) string { return env[k] })
	fmt.Println(s, err)
	// Output:
	// privacy.hmac_key: environment variable HELPLINE_HMAC_KEY: secret is missing: the variable is not set or empty
	// config.Secrets{ARIPassword:(redacted) RedisPassword:(unset) PostgresPassword:(unset) HMACKey:(redacted) AdminToken:(unset)} <nil>
}
