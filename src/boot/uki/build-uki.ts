/**
 * UKI assembly (talos-imager.md §6): systemd-stub + `.osrel .cmdline [.uname] [.splash] [.pcrpkey]
 * .linux .initrd [.profile [.cmdline]]… [.pcrsig]…`, then Authenticode signing when SecureBoot keys
 * are given. Plain inputs only (no profile or quirk knowledge): the caller decides the version
 * quirks (profiles exist for targets ≥ 1.10) and passes the pieces.
 *
 * Kernel and initramfs may be streamed sources: they are read once for the PCR measurement (signed
 * only), once for the Authenticode digest (signed only) and once when the output is written.
 */
import { assembly, invalidInput } from '../../core/errors.js';
import { appendSections, type AppendedSection } from '../../formats/pe/append-sections.js';
import { signPeAssembly } from '../../formats/pe/authenticode-sign.js';
import { sourceSize, type ByteSource } from '../../formats/pe/byte-source.js';
import { findSection, parsePe, sectionData } from '../../formats/pe/pe-file.js';
import type { PeAssembly } from '../../formats/pe/pe-assembly.js';
import type { CertificateSigner } from '../../formats/pe/signer.js';
import { digestForBanks, type BankDigests } from '../secureboot/pcr-prediction.js';
import { encodePcrSignature, pcrPublicKeyPem, signPcrPolicy, type PcrSignatureData, type PcrSigner } from '../secureboot/pcr-signature.js';
import { discoverKernelVersion } from './kernel-version.js';
import { osReleaseText } from './os-release.js';
import { profileText, validateProfiles, type UkiProfile } from './profiles.js';
import { talosSplashBmp } from './talos-splash.js';

export interface UkiSecureBoot {
  /** Authenticode signer of the UKI (the "SecureBoot signer", §6.4). */
  signer: CertificateSigner;
  /** Key signing the PCR 11 policy (`.pcrpkey` + `.pcrsig`). */
  pcrSigner: PcrSigner;
  /** Authenticode signingTime; defaults to `sourceDateEpoch` (upstream uses the clock). */
  signingTime?: number | Date | null;
}

export interface UkiInputs {
  /** systemd-stub PE32+ image (linuxx64.efi.stub / linuxaa64.efi.stub). */
  stub: Uint8Array;
  kernel: ByteSource;
  initrd: ByteSource;
  /** Kernel command line of the main profile, without trailing newline (§5). */
  cmdline: string;
  /** Talos version for `.osrel` (VERSION_ID, as written in the profile). */
  version: string;
  /** os-release NAME; `Talos` by default. */
  osName?: string;
  /** Full `.osrel` text, overriding the one made from `version`/`osName`. */
  osRelease?: string;
  /**
   * `.uname`: the kernel release. `undefined` reads it from an x86 bzImage header (left out when not
   * found, e.g. arm64); `null` leaves the section out.
   */
  uname?: string | null;
  /** `.splash` BMP: Talos's `sidero.bmp` (bundled) when undefined; `null` leaves the section out. */
  splash?: ByteSource | null;
  /** Profiles (targets ≥ 1.10), `main` first; none → no `.profile` sections (< 1.10). */
  profiles?: UkiProfile[];
  /** SOURCE_DATE_EPOCH: the COFF TimeDateStamp (and the default signing time). */
  sourceDateEpoch: number;
  secureBoot?: UkiSecureBoot;
}

export interface UkiSectionInfo {
  name: string;
  size: number;
  /** False for `.sbat`: measured from the stub, not added. */
  appended: boolean;
  measured: boolean;
}

export interface UkiBuild {
  /** The UKI: stream it (`peAssemblyStream`), write it (`writePeAssembly`) or load it (`peAssemblyBytes`). */
  image: PeAssembly;
  /** Sections in generation order (talos-imager.md §6.2), `.sbat` first. */
  sections: UkiSectionInfo[];
  /** One PCR signature set per profile (or one without profiles), when signed. */
  pcrSignatures: PcrSignatureData[];
}

interface PlannedSection {
  name: string;
  content: ByteSource;
  measured: boolean;
  appended: boolean;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

export async function buildUki(inputs: UkiInputs): Promise<UkiBuild> {
  const profiles = inputs.profiles ?? [];
  validateProfiles(profiles);
  if (/[\n\r\0]/.test(inputs.cmdline)) throw invalidInput('E_UKI_CMDLINE', 'the kernel command line must be one line');
  const stub = parsePe(inputs.stub, 'systemd-stub');

  // Generation order (uki.go): SBAT, OSRel, Cmdline, Uname, Splash, [PCRPublicKey], Kernel, Initrd, Profiles.
  const plan: PlannedSection[] = [];
  const sbat = findSection(stub, '.sbat');
  if (!sbat) throw assembly('E_UKI_NO_SBAT', 'systemd-stub has no .sbat section');
  plan.push({ name: '.sbat', content: sectionData(stub, sbat, true), measured: true, appended: false });
  plan.push({ name: '.osrel', content: utf8(inputs.osRelease ?? osReleaseText({ version: inputs.version, name: inputs.osName })), measured: true, appended: true });
  plan.push({ name: '.cmdline', content: utf8(inputs.cmdline), measured: true, appended: true });
  const uname = inputs.uname === undefined ? await discoverKernelVersion(inputs.kernel) : inputs.uname;
  if (uname) plan.push({ name: '.uname', content: utf8(uname), measured: true, appended: true });
  const splash = inputs.splash === undefined ? talosSplashBmp() : inputs.splash;
  if (splash) plan.push({ name: '.splash', content: splash, measured: true, appended: true });
  const sb = inputs.secureBoot;
  if (sb) plan.push({ name: '.pcrpkey', content: utf8(pcrPublicKeyPem(sb.pcrSigner)), measured: true, appended: true });
  // Upstream signs a copy of the kernel here but a shadowed variable makes it embed the original;
  // the `.linux` section is the kernel as given.
  plan.push({ name: '.linux', content: inputs.kernel, measured: true, appended: true });
  plan.push({ name: '.initrd', content: inputs.initrd, measured: true, appended: true });
  const profileStarts: number[] = [];
  for (const p of profiles) {
    profileStarts.push(plan.length);
    plan.push({ name: '.profile', content: utf8(profileText(p)), measured: true, appended: true });
    if (p.cmdline) {
      if (/[\n\r\0]/.test(p.cmdline)) throw invalidInput('E_UKI_CMDLINE', `UKI profile ${p.id}: the command line must be one line`);
      plan.push({ name: '.cmdline', content: utf8(p.cmdline), measured: true, appended: true });
    }
  }

  const pcrSignatures: PcrSignatureData[] = [];
  if (sb) {
    // Hash every measured section once, then sign one PCR policy per profile (§7.2, generatePCRSig).
    const digests = new Map<PlannedSection, BankDigests>();
    for (const s of plan) if (s.measured) digests.set(s, await digestForBanks(s.content, `section ${s.name}`));
    const measuredMap = (sections: PlannedSection[]) => new Map(sections.map((s) => [s.name, digests.get(s)!] as const));
    if (profileStarts.length > 0) {
      const base = plan.slice(0, profileStarts[0]);
      const inserts: Array<{ at: number; section: PlannedSection }> = [];
      for (let i = 0; i < profileStarts.length; i++) {
        const end = i + 1 < profileStarts.length ? profileStarts[i + 1]! : plan.length;
        const data = await signPcrPolicy(measuredMap([...base, ...plan.slice(profileStarts[i], end)]), sb.pcrSigner);
        pcrSignatures.push(data);
        inserts.push({ at: end, section: { name: '.pcrsig', content: encodePcrSignature(data), measured: false, appended: true } });
      }
      for (const { at, section } of inserts.reverse()) plan.splice(at, 0, section);
    } else {
      const data = await signPcrPolicy(measuredMap(plan.filter((s) => s.measured)), sb.pcrSigner);
      pcrSignatures.push(data);
      plan.push({ name: '.pcrsig', content: encodePcrSignature(data), measured: false, appended: true });
    }
  }

  const appended: AppendedSection[] = plan.filter((s) => s.appended).map((s) => ({ name: s.name, content: s.content }));
  let image = appendSections(stub, appended, { timeDateStamp: inputs.sourceDateEpoch, label: 'systemd-stub' });
  if (sb) image = await signPeAssembly(image, sb.signer, { signingTime: sb.signingTime === undefined ? inputs.sourceDateEpoch : sb.signingTime, label: 'UKI' });
  return {
    image,
    sections: plan.map((s) => ({ name: s.name, size: sourceSize(s.content), appended: s.appended, measured: s.measured })),
    pcrSignatures,
  };
}
