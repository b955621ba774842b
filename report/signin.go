package report

import (
	"fmt"

	"github.com/teamslink/teamslink/internal/finding"
)

// signInTitle heads the list of tenants nothing of which could be read:
// their sign-in failed, or their environments could not be discovered (and
// so none was scanned). It never calls a discovery failure a sign-in.
func signInTitle(errs []finding.SignInError) string {
	discovery := 0
	for _, e := range errs {
		if e.Discovery != "" {
			discovery++
		}
	}
	switch {
	case discovery == 0 && len(errs) == 1:
		return "Sign-in failed: nothing of this tenant could be read"
	case discovery == 0:
		return fmt.Sprintf("Sign-in failed for %d tenants: nothing of them could be read", len(errs))
	case discovery == len(errs) && len(errs) == 1:
		return "Environments could not be discovered: this tenant was not scanned"
	case discovery == len(errs):
		return fmt.Sprintf("Environments could not be discovered for %d tenants: they were not scanned", len(errs))
	}
	return fmt.Sprintf("Sign-in or discovery failed for %d tenants: nothing of them could be read", len(errs))
}

// signInWhat says what failed for one tenant, after its credential:
// "" for a sign-in, else which discovery service.
func signInWhat(e finding.SignInError) string {
	if e.Discovery == "" {
		return ""
	}
	return "; " + e.Failure() + " failed"
}
