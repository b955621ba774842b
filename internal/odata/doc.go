// Package odata is the one HTTP client that every collector, and later the
// remediator, uses to talk to the Dataverse Web API and Microsoft Graph.
//
// It owns the plumbing that each caller would otherwise get subtly wrong:
//
//   - auth: a bearer token from an azcore.TokenCredential, cached until shortly
//     before it expires, never written into an error, URL or hook argument;
//   - the default headers of each API flavour (Dataverse always sends Accept,
//     OData-MaxVersion, OData-Version and If-None-Match: null);
//   - retries of 429 and 503 (and, for requests that are safe to repeat, 502,
//     504 and connection errors) after Retry-After or an exponential backoff
//     with jitter, bounded by a number of retries and a total wait; the
//     inner 429 and 503 answers of a Dataverse $batch, and the inner 429s of
//     a Graph $batch, are sent again on their own in a new $batch, within
//     the same bounds;
//   - a deadline per attempt and a size limit on every response body;
//   - typed errors: *APIError (the OData {"error":{"code","message"}} body),
//     *ThrottledError, *AuthError, *DecodeError and ErrResponseTooLarge,
//     whose texts are bounded by BoundText (MaxErrorText bytes), the helper
//     callers also use for any error text they store or print;
//   - paging through @odata.nextLink with Prefer: odata.maxpagesize, $count
//     with the Dataverse 5,000 cap, Dataverse multipart $batch and Graph JSON
//     $batch.
//
// It contains no collector logic: it knows nothing of organizations, sites or
// licences, only of requests, responses and the OData wire conventions.
//
// # Token refresh on 401
//
// Tokens are requested capable of continuous access evaluation (CAE): a
// service such as Microsoft Graph sends claims challenges only to clients
// that declare that capability. On a 401 response whose WWW-Authenticate
// header carries a claims challenge (Bearer, error="insufficient_claims",
// claims="<base64 claims request>", the format of
// https://learn.microsoft.com/entra/identity-platform/claims-challenge), the
// client asks the credential for a token with those claims, which azidentity
// cannot answer from its cache, and repeats the request once. That
// SharePoint Online also sends them for a revoked token is an INFERENCE. On any other 401 it drops its cached token, asks the
// credential again and repeats the request once. azidentity answers that
// second call from its own cache until the token is close to expiry, so the
// token can be the same string as before: the single retry still recovers
// from a token this client cached after the credential had renewed it, and
// from a clock skew at the expiry edge. A token the service keeps refusing
// surfaces as an *AuthError after exactly two attempts, never as a loop.
//
// Not every credential can satisfy a claims challenge: azidentity's Azure CLI
// credential answers with an error asking to run az login --claims-challenge
// (an *AuthError that says so), and the device code credential asks the
// person to sign in again.
//
// # Assumptions
//
// The facts this package relies on are in the project's Microsoft facts
// reference (§7 Dataverse mechanics, §9 Graph batching and throttling, §12
// wire encodings). Two behaviours are this package's own choices rather than
// documented facts: Prefer: odata.maxpagesize is sent to Graph too, where it
// may be ignored (Graph then pages at its own size and the nextLink is still
// followed), and a Dataverse @odata.count equal to 5,000 without the
// totalrecordcountlimitexceeded annotation is reported as capped, because the
// count cannot tell exactly 5,000 from more.
package odata
