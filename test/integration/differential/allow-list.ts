/**
 * Differences between crdns and NSD that are accepted, each with the RFC
 * that makes both answers correct. Keep this list as short as possible: a
 * difference is fixed in crdns unless the RFCs leave the choice open. An
 * entry that no longer matches any mismatch fails the test, so the list
 * cannot go stale. docs/differential.md explains every entry.
 */
import type { AllowEntry } from './compare.js';

export const ALLOW_LIST: readonly AllowEntry[] = [
  {
    // hop1 … hop12 is a chain of 12 CNAMEs; from hop1 to hop4 it is longer than crdns follows.
    id: /^hop[1-4]\.example\.test\. (A|AAAA|MX|TXT)( |$)/i,
    // crdns's answer is a prefix of NSD's: nothing that NSD lacks.
    // The subject is named "crdns" when asked directly and e.g. "CoreDNS TCP" when asked through CoreDNS.
    diff: /^answer: only NSD: \[.+\]; only [^:]+: \[\]$/,
    reason:
      'crdns follows at most MAX_CHAIN (8) CNAME hops after the first in one answer, as CoreDNS\'s file plugin does, and NSD follows ' +
      'without bound. RFC 1034 §4.3.2 (step 3a) sets no bound, and a resolver given a chain that stops early restarts at its last ' +
      'target (RFC 1034 §5.3.3), so both answers lead to the same data; the bound caps the work and size of one reply.',
  },
  {
    id: / \+cd( |$)/,
    diff: /^header: NSD (.+), .+ \1 cd$/,
    reason:
      'crdns copies the CD bit of the query into the reply, as RFC 4035 §3.1.6 requires of a security-aware name server ' +
      '(CoreDNS in front may sign with its dnssec plugin); NSD 4.6 clears it in authoritative answers.',
  },
];
