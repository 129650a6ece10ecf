/**
 * Talos default kernel arguments (talos-imager.md §5.2; upstream `pkg/machinery/kernel/kernel.go`
 * `DefaultArgs`, `SecureBootArgs`), chosen by the target version's quirks.
 */
import type { Quirks } from '../../profile/quirks.js';

export function defaultArgs(q: Quirks): string[] {
  const args: string[] = [];
  if (!q.dropInitOnAllocInArgs) args.push('init_on_alloc=1');
  args.push('slab_nomerge=', 'pti=on', 'consoleblank=0');
  // From 1.14 only the AWS platform sets it (platforms.ts).
  if (!q.nvmeCoreIoTimeoutAWSOnly) args.push('nvme_core.io_timeout=4294967295');
  args.push('printk.devkmsg=on');
  if (q.supportsIMA) args.push('ima_template=ima-ng', 'ima_appraise=fix', 'ima_hash=sha512');
  if (q.supportsSELinux) args.push('selinux=1');
  if (q.supportsDisablingModuleSignatureVerification) args.push('module.sig_enforce=1');
  if (q.procMemOverrideNever) args.push('proc_mem.force_override=never');
  return args;
}

export function secureBootArgs(q: Quirks): string[] {
  return q.forcesLockdownConfidentiality ? ['lockdown=confidentiality'] : [];
}
