// Package asterisk writes the configuration of the Asterisk that helpline
// drives, from helpline's own YAML, so that operators, numbers and the
// Stasis application are declared once.
//
// # Why generate instead of hand-writing
//
// A hand-written Asterisk configuration repeats what helpline.yaml already
// says: every operator's endpoint, the feature codes, the ARI user, the
// application name, the music-on-hold class. Two copies drift apart, and
// the drift shows up as a phone that never rings or a feature code that
// plays "invalid extension" at 3 a.m. Generating the files makes
// helpline.yaml the single source and lets us refuse, before Asterisk ever
// reads them, the values Asterisk would reject or silently misread: an
// unknown codec name (Asterisk logs a warning and drops it, leaving an
// endpoint with no common codec), an endpoint id with a character that
// pjsip.conf or a dial string cannot carry, an operator endpoint named like
// the trunk (the second definition silently wins), a DID that is not a
// number. Generate fails with every problem at once, each naming the key to
// fix, and writes nothing.
//
// What helpline.yaml does not model (the SIP provider's host and
// credentials reference, the helpline's DIDs, the SIP bind address, NAT,
// codecs, the RTP port range) lives in a second, small file read by
// LoadSite: site values, not switchboard behaviour. Secrets follow the same
// rule as helpline's: the files only name an environment variable or a
// file, and Generate receives the resolved values (or placeholders for
// templating, see PlaceholderSecrets). Operators' SIP passwords are read
// from a directory holding one file per operator id (see ResolveSecrets):
// helpline.yaml has no place for them and must not get one.
//
// # The toll-fraud rule
//
// A PBX reachable from the Internet is attacked within hours by scanners
// that place premium-rate calls through any dialplan that will dial out.
// The generated dialplan therefore contains no Dial, Goto, Gosub or any
// other application that could reach the network: the context of the trunk
// holds only the helpline's DIDs, each entering Stasis(app,inbound); the
// operators' context holds only their feature codes, each entering
// Stasis(app,operator,<operator id>). Calls to the anti-violence network
// are placed by helpline itself through ARI (originating on the trunk
// endpoint), never by the dialplan, so no sequence of digits sent by a
// caller, a compromised softphone or a forged INVITE can make Asterisk call
// out. There is no anonymous endpoint and no guest context: a request that
// matches neither the trunk's addresses nor an operator's credentials is
// refused. modules.conf sets autoload=no and loads an explicit list, so
// the rest of Asterisk (AMI, other channel drivers, CDR backends that would
// write caller numbers to CSV files) is not even loaded.
package asterisk
