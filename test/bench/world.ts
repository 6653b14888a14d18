/**
 * The simulated estate behind a generated batch: hosts, accounts, the binaries they run and the
 * domains those binaries resolve. Everything here is source-independent; `sysmon-format.ts` and
 * `falcon-format.ts` render it. Names and value conventions follow the real recordings under
 * shared/datasets (Sysmon schema 4.x field order, Falcon FDR field names).
 */
import { hash32, type Rng, stableHex } from './prng.ts';

export type ProcClass =
  /** Browser or sync client: on the rule's exclusion list, resolves listed domains all day. */
  | 'excluded'
  /** Scripting engine / LOLBin doing administration: suspicious name, benign destinations. */
  | 'suspicious'
  /** Any other program that talks to the network (Office, VS Code, svchost...). */
  | 'app'
  /** Never talks to the network in this simulation. */
  | 'quiet';

export type AccountKind = 'user' | 'system' | 'network' | 'local';

export interface Account {
  /** Sysmon `User`: `DOMAIN\name`. */
  sysmon: string;
  /** Falcon `UserName`. */
  falcon: string;
  sid: string;
}

export interface Host {
  index: number;
  /** Falcon `ComputerName` (short name). */
  name: string;
  /** Sysmon `Computer` (FQDN for domain members). */
  fqdn: string;
  platform: 'Win' | 'Lin';
  aid: string;
  ip: string;
  guidPrefix: string;
  user: Account;
  /** Processes running before the batch started: never created nor ended in it. */
  persistent: Proc[];
  /** Processes created in the batch, oldest first. */
  churn: Proc[];
  procCounter: number;
}

export interface Binary {
  name: string;
  /** Full path; `{u}` stands for the host's user name. */
  path: string;
  original: string;
  description: string;
  product: string;
  company: string;
  version: string;
}

export interface Proc {
  host: Host;
  bin: Binary;
  image: string;
  /** Lower-case basename, as the group key has it. */
  nameLower: string;
  cmd: string;
  cls: ProcClass;
  /** Which domain pool the process resolves from. */
  net: DomainPool | undefined;
  account: Account;
  integrity: 'System' | 'High' | 'Medium';
  guid: string;
  pid: number;
  /** Falcon `TargetProcessId`: unique per host. */
  fpid: string;
  parent: ParentRef;
  startMs: number;
  hashes: Hashes;
}

export interface ParentRef {
  image: string;
  cmd: string;
  guid: string;
  pid: number;
  fpid: string;
}

export interface Hashes {
  md5: string;
  sha1: string;
  sha256: string;
  imphash: string;
}

export type DomainPool =
  | 'browser'
  | 'onedrive'
  | 'teams'
  | 'slack'
  | 'office'
  | 'vscode'
  | 'svchost'
  | 'defender'
  | 'search'
  | 'admin'
  | 'dev'
  | 'peruser'
  | 'linux';

/** Number of simulated hosts (the issue asks for many, e.g. 200). */
export const HOST_COUNT = 200;
/** Linux hosts among them (Falcon only: Sysmon batches come from Windows). */
export const LINUX_HOST_COUNT = 10;
/** Processes created during the batch kept alive per host before the oldest is forgotten. */
export const MAX_CHURN_PER_HOST = 24;
/** The tenant's customer id (`cid`): one tenant per batch, as in FDR. */
export const FALCON_CID = '5424626b932a2ff9d191f0982447a979';
export const AD_DOMAIN = 'CORP';
export const DNS_SUFFIX = 'corp.example.com';

const FIRST_NAMES = [
  'james',
  'mary',
  'robert',
  'patricia',
  'john',
  'jennifer',
  'michael',
  'linda',
  'david',
  'elizabeth',
  'william',
  'barbara',
  'richard',
  'susan',
  'joseph',
  'jessica',
  'thomas',
  'sarah',
  'charles',
  'karen',
  'chris',
  'lisa',
  'daniel',
  'nancy',
  'matthew',
  'betty',
  'anthony',
  'sandra',
  'mark',
  'ashley',
  'paul',
  'emily',
  'steven',
  'kim',
  'andrew',
  'donna',
  'joshua',
  'michelle',
  'kevin',
  'carol',
  'brian',
  'amanda',
  'george',
  'melissa',
  'timothy',
  'deborah',
  'jürgen',
  'zoë',
] as const;
const LAST_NAMES = [
  'smith',
  'johnson',
  'williams',
  'brown',
  'jones',
  'garcia',
  'miller',
  'davis',
  'rodriguez',
  'martinez',
  'hernandez',
  'lopez',
  'gonzalez',
  'wilson',
  'anderson',
  'thomas',
  'taylor',
  'moore',
  'jackson',
  'martin',
  'lee',
  'perez',
  'thompson',
  'white',
  'harris',
  'sanchez',
  'clark',
  'ramirez',
  'lewis',
  'robinson',
  'walker',
  'young',
  'allen',
  'king',
  'wright',
  'scott',
  'torres',
  'nguyen',
  'hill',
  'flores',
  'green',
  'adams',
  'nelson',
  'baker',
  'hall',
  'rivera',
  'campbell',
  'müller',
] as const;
const HOST_ROLES = ['WKS', 'LT', 'WKS', 'LT', 'VDI', 'SRV'] as const;
const DEPARTMENTS = ['FIN', 'HR', 'ENG', 'OPS', 'SALES', 'MKT', 'IT', 'LEGAL'] as const;

export const SYSTEM_ACCOUNTS: Record<Exclude<AccountKind, 'user'>, Account> = {
  system: { sysmon: 'NT AUTHORITY\\SYSTEM', falcon: 'SYSTEM', sid: 'S-1-5-18' },
  network: { sysmon: 'NT AUTHORITY\\NETWORK SERVICE', falcon: 'NETWORK SERVICE', sid: 'S-1-5-20' },
  local: { sysmon: 'NT AUTHORITY\\LOCAL SERVICE', falcon: 'LOCAL SERVICE', sid: 'S-1-5-19' },
};

const bin = (
  path: string,
  original: string,
  description: string,
  product = 'Microsoft® Windows® Operating System',
  company = 'Microsoft Corporation',
  version = '10.0.19041.1 (WinBuild.160101.0800)',
): Binary => ({
  name: path.slice(path.lastIndexOf(path.includes('\\') ? '\\' : '/') + 1),
  path,
  original,
  description,
  product,
  company,
  version,
});

const SYS32 = 'C:\\Windows\\System32\\';
const PS_PATH = `${SYS32}WindowsPowerShell\\v1.0\\powershell.exe`;

export const BINARIES = {
  svchost: bin(`${SYS32}svchost.exe`, 'svchost.exe', 'Host Process for Windows Services'),
  services: bin(`${SYS32}services.exe`, 'services.exe', 'Services and Controller app'),
  explorer: bin('C:\\Windows\\explorer.exe', 'EXPLORER.EXE', 'Windows Explorer'),
  lsass: bin(`${SYS32}lsass.exe`, 'lsass.exe', 'Local Security Authority Process'),
  conhost: bin(`${SYS32}conhost.exe`, 'CONHOST.EXE', 'Console Window Host'),
  runtimeBroker: bin(`${SYS32}RuntimeBroker.exe`, 'RuntimeBroker.exe', 'Runtime Broker'),
  backgroundTaskHost: bin(
    `${SYS32}backgroundTaskHost.exe`,
    'backgroundTaskHost.exe',
    'Background Task Host',
  ),
  taskhostw: bin(`${SYS32}taskhostw.exe`, 'taskhostw.exe', 'Host Process for Windows Tasks'),
  searchProtocolHost: bin(
    `${SYS32}SearchProtocolHost.exe`,
    'SearchProtocolHost.exe',
    'Microsoft Windows Search Protocol Host',
  ),
  wmiPrvSe: bin(`${SYS32}wbem\\WmiPrvSE.exe`, 'Wmiprvse.exe', 'WMI Provider Host'),
  dllhost: bin(`${SYS32}dllhost.exe`, 'dllhost.exe', 'COM Surrogate'),
  smartscreen: bin(`${SYS32}smartscreen.exe`, 'smartscreen.exe', 'Windows Defender SmartScreen'),
  consent: bin(`${SYS32}consent.exe`, 'consent.exe', 'Consent UI for administrative applications'),
  wermgr: bin(`${SYS32}wermgr.exe`, 'WerMgr', 'Windows Problem Reporting'),
  searchIndexer: bin(
    `${SYS32}SearchIndexer.exe`,
    'SearchIndexer.exe',
    'Microsoft Windows Search Indexer',
  ),
  msMpEng: bin(
    'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe',
    'MsMpEng.exe',
    'Antimalware Service Executable',
    'Microsoft® Windows® Operating System',
    'Microsoft Corporation',
    '4.18.24010.12 (WinBuild.160101.0800)',
  ),
  searchApp: bin(
    'C:\\Windows\\SystemApps\\Microsoft.Windows.Search_cw5n1h2txyewy\\SearchApp.exe',
    'SearchApp.exe',
    'Search application',
  ),
  powershell: bin(PS_PATH, 'PowerShell.EXE', 'Windows PowerShell'),
  pwsh: bin(
    'C:\\Program Files\\PowerShell\\7\\pwsh.exe',
    'pwsh.dll',
    'pwsh',
    'PowerShell',
    'Microsoft Corporation',
    '7.4.1.500',
  ),
  cmd: bin(`${SYS32}cmd.exe`, 'Cmd.Exe', 'Windows Command Processor'),
  rundll32: bin(`${SYS32}rundll32.exe`, 'RUNDLL32.EXE', 'Windows host process (Rundll32)'),
  regsvr32: bin(`${SYS32}regsvr32.exe`, 'REGSVR32.EXE', 'Microsoft(C) Register Server'),
  certutil: bin(`${SYS32}certutil.exe`, 'CertUtil.exe', 'CertUtil.exe'),
  bitsadmin: bin(`${SYS32}bitsadmin.exe`, 'bitsadmin.exe', 'BITS administration utility'),
  mshta: bin(
    `${SYS32}mshta.exe`,
    'MSHTA.EXE',
    'Microsoft (R) HTML Application host',
    'Internet Explorer',
    'Microsoft Corporation',
    '11.00.19041.1 (WinBuild.160101.0800)',
  ),
  wscript: bin(`${SYS32}wscript.exe`, 'wscript.exe', 'Microsoft ® Windows Based Script Host'),
  cscript: bin(`${SYS32}cscript.exe`, 'cscript.exe', 'Microsoft ® Console Based Script Host'),
  curl: bin(
    `${SYS32}curl.exe`,
    'curl.exe',
    'The curl executable',
    'The curl executable',
    'curl, https://curl.se/',
    '8.4.0',
  ),
  wmic: bin(`${SYS32}wbem\\WMIC.exe`, 'wmic.exe', 'WMI Commandline Utility'),
  python: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe',
    'python.exe',
    'Python',
    'Python',
    'Python Software Foundation',
    '3.11.7',
  ),
  node: bin(
    'C:\\Program Files\\nodejs\\node.exe',
    'node.exe',
    'Node.js JavaScript Runtime',
    'Node.js',
    'Node.js',
    '20.11.0',
  ),
  chrome: bin(
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    'chrome.exe',
    'Google Chrome',
    'Google Chrome',
    'Google LLC',
    '121.0.6167.161',
  ),
  msedge: bin(
    'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
    'msedge.exe',
    'Microsoft Edge',
    'Microsoft Edge',
    'Microsoft Corporation',
    '121.0.2277.112',
  ),
  firefox: bin(
    'C:\\Program Files\\Mozilla Firefox\\firefox.exe',
    'firefox.exe',
    'Firefox',
    'Firefox',
    'Mozilla Corporation',
    '122.0.1',
  ),
  onedrive: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe',
    'OneDrive.exe',
    'Microsoft OneDrive',
    'Microsoft OneDrive',
    'Microsoft Corporation',
    '24.010.0114.0003',
  ),
  teams: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe',
    'Teams.exe',
    'Microsoft Teams',
    'Microsoft Teams',
    'Microsoft Corporation',
    '1.7.00.1960',
  ),
  // Electron builds carry electron.exe as OriginalFileName: excluded by its image name at home.
  slack: bin(
    'C:\\Users\\{u}\\AppData\\Local\\slack\\app-4.36.140\\slack.exe',
    'electron.exe',
    'Slack',
    'Slack',
    'Slack Technologies, LLC',
    '4.36.140',
  ),
  winword: bin(
    'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
    'WinWord.exe',
    'Microsoft Word',
    'Microsoft Office',
    'Microsoft Corporation',
    '16.0.17126.20132',
  ),
  excel: bin(
    'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE',
    'Excel.exe',
    'Microsoft Excel',
    'Microsoft Office',
    'Microsoft Corporation',
    '16.0.17126.20132',
  ),
  outlook: bin(
    'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
    'Outlook.exe',
    'Microsoft Outlook',
    'Microsoft Office',
    'Microsoft Corporation',
    '16.0.17126.20132',
  ),
  acrord32: bin(
    'C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe',
    'AcroRd32.exe',
    'Adobe Acrobat Reader DC',
    'Adobe Acrobat Reader DC',
    'Adobe Systems Incorporated',
    '23.8.20470.0',
  ),
  clickToRun: bin(
    'C:\\Program Files\\Common Files\\microsoft shared\\ClickToRun\\OfficeClickToRun.exe',
    'OfficeClickToRun.exe',
    'Microsoft Office Click-to-Run',
    'Microsoft Office',
    'Microsoft Corporation',
    '16.0.17126.20132',
  ),
  vscode: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe',
    'electron.exe',
    'Visual Studio Code',
    'Visual Studio Code',
    'Microsoft Corporation',
    '1.86.1',
  ),
  git: bin(
    'C:\\Program Files\\Git\\mingw64\\bin\\git.exe',
    'git.exe',
    'Git for Windows',
    'Git',
    'The Git Development Community',
    '2.43.0.windows.1',
  ),
  notepad: bin(`${SYS32}notepad.exe`, 'NOTEPAD.EXE', 'Notepad'),
  mstsc: bin(`${SYS32}mstsc.exe`, 'mstsc.exe', 'Remote Desktop Connection'),
  /** A dropper written by a macro: the Office-parent clause of the rule. */
  dropper: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Temp\\InvoiceViewer.exe',
    'InvoiceViewer.exe',
    'Invoice Viewer',
    'Invoice Viewer',
    'Docs Tools Ltd',
    '2.1.0.4',
  ),
  /** PowerShell copied under a browser's name: identity comes from OriginalFileName. */
  renamedPowershell: bin('C:\\Users\\Public\\chrome.exe', 'PowerShell.EXE', 'Windows PowerShell'),
  // Implants in user-writable paths, not suspicious by name (SPEC §1 branch c: high tier only).
  implantRoaming: bin(
    'C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Crypto\\Keys\\CryptSvcHost.exe',
    'CryptSvcHost.exe',
    'Crypto Service Host',
    'Microsoft® Windows® Operating System',
    'Microsoft Corporation',
    '10.0.19041.1',
  ),
  // Unsigned, no version resource: Sysmon writes `?` and `-` for the fields it has no value for.
  implantProgramData: bin(
    'C:\\ProgramData\\IntelGraphics\\igfxCUIsvc.exe',
    '?',
    '-',
    '-',
    '-',
    '-',
  ),
  implantPublic: bin(
    'C:\\Users\\Public\\Libraries\\RuntimeBroker.exe',
    'RuntimeBroker.exe',
    'Runtime Broker',
  ),
  implantTemp: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Temp\\7zS4A21\\setup.exe',
    'setup.exe',
    'Setup',
    'Adobe Acrobat Update',
    'Adobe Inc.',
    '24.1.0.1',
  ),
  implantDownloads: bin(
    'C:\\Users\\{u}\\Downloads\\Invoice_2024-03_scan.exe',
    'PDFViewer.exe',
    'PDF Viewer',
    'PDF Viewer',
    'Docs Tools Ltd',
    '3.0.2.1',
  ),
  implantTasks: bin('C:\\Windows\\Tasks\\wmihost.exe', '-', '-', '-', '-', '-'),
  /** bitsadmin copied under another name: identity from OriginalFileName (Sysmon only). */
  renamedBitsadmin: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Temp\\wupdmgr.exe',
    'bitsadmin.exe',
    'BITS administration utility',
  ),
  // Impostors: an excluded client's name outside that client's home (SPEC §1 clause 3).
  impostorSlack: bin(
    'C:\\Users\\{u}\\AppData\\Roaming\\slack.exe',
    'slack.exe',
    'Slack',
    'Slack',
    'Slack Technologies, LLC',
    '4.41.97',
  ),
  impostorOneDrive: bin(
    'C:\\Users\\Public\\OneDrive.exe',
    'OneDrive.exe',
    'Microsoft OneDrive',
    'Microsoft OneDrive',
    'Microsoft Corporation',
    '24.010.0114.0003',
  ),
  impostorTeams: bin(
    'C:\\ProgramData\\Teams\\Teams.exe',
    'Teams.exe',
    'Microsoft Teams',
    'Microsoft Teams',
    'Microsoft Corporation',
    '1.7.00.1960',
  ),
  impostorDefender: bin(
    'C:\\Users\\{u}\\AppData\\Local\\Temp\\MsMpEng.exe',
    'MsMpEng.exe',
    'Antimalware Service Executable',
  ),
  // Per-user installs that are neither excluded nor suspicious: branch c, medium tier only.
  spotify: bin(
    'C:\\Users\\{u}\\AppData\\Roaming\\Spotify\\Spotify.exe',
    'Spotify.exe',
    'Spotify',
    'Spotify',
    'Spotify Ltd',
    '1.2.31.1205',
  ),
  zoom: bin(
    'C:\\Users\\{u}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe',
    'Zoom.exe',
    'Zoom Meetings',
    'Zoom Meetings',
    'Zoom Video Communications, Inc.',
    '5.17.5.31030',
  ),
  // Linux (Falcon only).
  bash: bin('/usr/bin/bash', 'bash', 'bash', '', '', ''),
  lcurl: bin('/usr/bin/curl', 'curl', 'curl', '', '', ''),
  lwget: bin('/usr/bin/wget', 'wget', 'wget', '', '', ''),
  lpython: bin('/usr/bin/python3.11', 'python3.11', 'python3.11', '', '', ''),
  lsshd: bin('/usr/sbin/sshd', 'sshd', 'sshd', '', '', ''),
  lcron: bin('/usr/sbin/cron', 'cron', 'cron', '', '', ''),
  lapt: bin('/usr/bin/apt-get', 'apt-get', 'apt-get', '', '', ''),
  ljava: bin('/usr/lib/jvm/java-17-openjdk-amd64/bin/java', 'java', 'java', '', '', ''),
  lsystemd: bin('/usr/lib/systemd/systemd', 'systemd', 'systemd', '', '', ''),
} as const satisfies Record<string, Binary>;

export type BinaryId = keyof typeof BINARIES;

/**
 * Domains each kind of process resolves in the background noise. Only excluded clients at home
 * and processes no branch of the rule holds for (SPEC §1 clauses 3 and 4) resolve listed
 * domains: the pools of suspicious names (admin, dev, linux) hold none, and per-user installs
 * in user-writable paths (peruser) only medium-tier ones, which branch c never matches.
 */
const LISTED_SEEN_IN_BROWSERS = [
  'pastebin.com',
  'raw.githubusercontent.com',
  'api.github.com',
  'gist.github.com',
  'graph.microsoft.com',
  'onedrive.live.com',
  'www.googleapis.com',
  'fonts.googleapis.com',
  'drive.google.com',
  'discord.com',
  'cdn.discordapp.com',
  'slack.com',
  'app.slack.com',
  'api.notion.com',
  'gitee.com',
  'content.dropboxapi.com',
  'web.telegram.org',
  'api.telegram.org',
  'ajax.googleapis.com',
  'storage.googleapis.com',
];
const BENIGN_WEB = [
  'www.google.com',
  'www.bing.com',
  'www.microsoft.com',
  'login.microsoftonline.com',
  'outlook.office365.com',
  'www.office.com',
  'fonts.gstatic.com',
  'www.gstatic.com',
  'clients2.google.com',
  'www.youtube.com',
  'i.ytimg.com',
  'www.linkedin.com',
  'static.licdn.com',
  'github.com',
  'avatars.githubusercontent.com',
  'objects.githubusercontent.com',
  'www.wikipedia.org',
  'en.wikipedia.org',
  'cdn.jsdelivr.net',
  'www.amazon.com',
  'stackoverflow.com',
  'cdn.sstatic.net',
  'news.ycombinator.com',
  'www.nytimes.com',
  'docs.google.com',
  'www.dropbox.com',
  'telegram.org',
  'www.notion.so',
  'zoom.us',
  'intranet.corp.example.com',
  'sharepoint.corp.example.com',
  'wiki.corp.example.com',
];
const ADMIN_DOMAINS = [
  'www.powershellgallery.com',
  'psg-prod-eastus.azureedge.net',
  'go.microsoft.com',
  'aka.ms',
  'crl.microsoft.com',
  'ctldl.windowsupdate.com',
  'ocsp.digicert.com',
  'crl3.digicert.com',
  'login.microsoftonline.com',
  'management.azure.com',
  'fileserver01.corp.example.com',
  'dc01.corp.example.com',
  'dc02.corp.example.com',
  'sccm01.corp.example.com',
  'intranet.corp.example.com',
  'print01.corp.example.com',
  'release-assets.githubusercontent.com',
  'support.google.com',
  'cfl.dropboxstatic.com',
  'telegram.org',
  'notion.so',
  'download.microsoft.com',
  // Look-alikes: a raw substring match would flag these; the rule's label boundary must not.
  'evilpastebin.com',
  'pastebin.com.evil.io',
  'notgitee.com',
  'mygithubusercontent.com',
  'notgithub.com',
  'github.com.evil.io',
  'dash.myworkers.dev',
  'script.google.com.evil.io',
];
const DEV_DOMAINS = [
  'pypi.org',
  'files.pythonhosted.org',
  'registry.npmjs.org',
  'nodejs.org',
  'pkg-containers.githubusercontent.com',
  'github.githubassets.com',
  'proxy.golang.org',
  'artifactory.corp.example.com',
];
const POOLS: Record<DomainPool, readonly string[]> = {
  browser: [...BENIGN_WEB, ...BENIGN_WEB, ...LISTED_SEEN_IN_BROWSERS],
  onedrive: [
    'onedrive.live.com',
    'api.onedrive.com',
    'graph.microsoft.com',
    'skyapi.live.net',
    'g.live.com',
  ],
  teams: [
    'teams.microsoft.com',
    'graph.microsoft.com',
    'presence.teams.microsoft.com',
    'login.microsoftonline.com',
  ],
  slack: [
    'slack.com',
    'app.slack.com',
    'files.slack.com',
    'edgeapi.slack.com',
    'wss-primary.slack.com',
  ],
  office: [
    'graph.microsoft.com',
    'outlook.office365.com',
    'officeclient.microsoft.com',
    'nexus.officeapps.live.com',
    'ecs.office.com',
    'storage.googleapis.com',
  ],
  vscode: [
    'api.github.com',
    'raw.githubusercontent.com',
    'marketplace.visualstudio.com',
    'update.code.visualstudio.com',
    'default.exp-tas.com',
  ],
  svchost: [
    'settings-win.data.microsoft.com',
    'v10.events.data.microsoft.com',
    'ctldl.windowsupdate.com',
    'fe3cr.delivery.mp.microsoft.com',
    'time.windows.com',
    'dc01.corp.example.com',
    'wpad.corp.example.com',
  ],
  defender: ['wdcp.microsoft.com', 'definitionupdates.microsoft.com', 'go.microsoft.com'],
  search: ['www.bing.com', 'th.bing.com', 'img-s-msn-com.akamaized.net'],
  admin: ADMIN_DOMAINS,
  dev: DEV_DOMAINS,
  // Per-user installs under AppData: cloud APIs of the medium tier (Google, Graph) and their own.
  peruser: [
    'apresolve.spotify.com',
    'spclient.wg.spotify.com',
    'www.googleapis.com',
    'storage.googleapis.com',
    'zoom.us',
    'us04web.zoom.us',
    'graph.microsoft.com',
    'login.microsoftonline.com',
  ],
  linux: [
    'archive.ubuntu.com',
    'security.ubuntu.com',
    'api.snapcraft.io',
    'ntp.ubuntu.com',
    'repo1.maven.org',
    'pypi.org',
    'dl.google.com',
  ],
};

export function domainFor(pool: DomainPool, rng: Rng): string {
  return rng.pick(POOLS[pool]);
}

/** A listed domain's tier (SPEC §1), as the generator plants it: written out here, not read from the rule. */
export type Tier = 'high' | 'medium';

export interface C2Domain {
  /** The host the attacker's tool names (lower-case): a listed domain or a name under one. */
  host: string;
  weight: number;
  /** The tier of the longest listed domain it falls under. */
  tier: Tier;
}

const c2 = (host: string, weight: number, tier: Tier): C2Domain => ({ host, weight, tier });

/** The C2 destinations planted attacks use, with their relative frequency and tier. */
export const C2_DOMAINS: readonly C2Domain[] = [
  c2('pastebin.com', 10, 'high'),
  c2('raw.githubusercontent.com', 14, 'high'),
  c2('objects.githubusercontent.com', 1, 'high'),
  c2('gist.github.com', 3, 'high'),
  c2('content.dropboxapi.com', 3, 'high'),
  c2('api.dropboxapi.com', 2, 'high'),
  c2('dl.dropboxusercontent.com', 1, 'high'),
  c2('discord.com', 4, 'high'),
  c2('cdn.discordapp.com', 5, 'high'),
  c2('api.telegram.org', 6, 'high'),
  c2('t.me', 2, 'high'),
  // hooks.slack.com is high although slack.com is medium: the longest listed domain decides.
  c2('hooks.slack.com', 2, 'high'),
  c2('c2-relay-4471.firebaseio.com', 2, 'high'),
  c2('api.notion.com', 2, 'high'),
  c2('api.notion.so', 1, 'high'),
  c2('gitee.com', 2, 'high'),
  c2('f.top4top.io', 1, 'high'),
  c2('paste.ee', 2, 'high'),
  c2('ghostbin.co', 1, 'high'),
  c2('rentry.co', 1, 'high'),
  c2('steamcommunity.com', 1, 'high'),
  c2('webhook.site', 1, 'high'),
  c2('script.google.com', 2, 'high'),
  c2('api.trello.com', 1, 'high'),
  c2('cdn-sync-7f3a.acme-tools.workers.dev', 3, 'high'),
  c2('update-check.pages.dev', 1, 'high'),
  c2('api.github.com', 4, 'medium'),
  c2('github.com', 3, 'medium'),
  c2('graph.microsoft.com', 4, 'medium'),
  c2('api.onedrive.com', 2, 'medium'),
  c2('onedrive.live.com', 2, 'medium'),
  c2('1drv.ms', 1, 'medium'),
  c2('contoso-my.sharepoint.com', 1, 'medium'),
  c2('storage.googleapis.com', 3, 'medium'),
  c2('www.googleapis.com', 2, 'medium'),
  c2('firebase.googleapis.com', 1, 'medium'),
  c2('drive.google.com', 3, 'medium'),
  c2('docs.google.com', 2, 'medium'),
  c2('www.dropbox.com', 1, 'medium'),
  c2('files.slack.com', 1, 'medium'),
];

const KNOWN_PREFIXES: readonly (readonly [string, string])[] = [
  ['githubusercontent.com', '185.199.108.'],
  ['github.com', '140.82.112.'],
  ['pastebin.com', '104.20.67.'],
  ['discordapp.com', '162.159.130.'],
  ['discord.com', '162.159.137.'],
  ['telegram.org', '149.154.167.'],
  ['googleapis.com', '142.250.185.'],
  ['google.com', '172.217.16.'],
  ['microsoft.com', '20.190.159.'],
  ['live.com', '13.107.42.'],
  ['office365.com', '52.97.146.'],
  ['dropboxapi.com', '162.125.66.'],
  ['slack.com', '3.120.121.'],
  ['corp.example.com', '10.10.'],
];
const PUBLIC_FIRST_OCTETS = [13, 20, 23, 34, 35, 40, 52, 54, 104, 142, 151, 172, 185, 199, 204];

/** The addresses a domain resolves to: stable per domain, 1-3 records. */
export function addressesOf(domain: string): string[] {
  const h = hash32(domain);
  const count = 1 + (h % 3);
  const known = KNOWN_PREFIXES.find(
    ([suffix]) => domain === suffix || domain.endsWith(`.${suffix}`),
  );
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const x = hash32(`${domain}#${i}`);
    if (known) {
      const prefix = known[1];
      // A prefix of three octets ('185.199.108.') takes one more, one of two octets takes two.
      out.push(
        prefix.split('.').length === 4
          ? `${prefix}${(x % 250) + 2}`
          : `${prefix}${(x >>> 8) % 250}.${(x % 250) + 2}`,
      );
    } else {
      const first = PUBLIC_FIRST_OCTETS[x % PUBLIC_FIRST_OCTETS.length];
      out.push(`${first}.${(x >>> 8) & 255}.${(x >>> 16) & 255}.${((x >>> 24) % 250) + 2}`);
    }
  }
  return out;
}

/**
 * A reverse-DNS name that is NOT listed, as Sysmon sometimes records on EventID 3. (GitHub's
 * real `cdn-….github.com` PTR names fall under github.com, listed since rule v2: a connection
 * that carries one is named by it, not by the DNS join. The simulation keeps them unlisted.)
 */
export function reverseNameOf(ip: string): string {
  const dashed = ip.replaceAll('.', '-');
  if (ip.startsWith('185.199.')) return `cdn-${dashed}.githubusercontent.com`;
  if (ip.startsWith('142.250.') || ip.startsWith('172.217.'))
    return `fra16s${ip.length}-in-f${ip.slice(-2).replace('.', '')}.1e100.net`;
  if (ip.startsWith('13.') || ip.startsWith('20.') || ip.startsWith('52.'))
    return `${dashed}.msedge.net`;
  return `server-${dashed}.fra56.r.cloudfront.net`;
}

function makeAccount(first: string, last: string): Account {
  const name = `${first}.${last}`;
  const rid = 1000 + (hash32(name) % 90000);
  return {
    sysmon: `${AD_DOMAIN}\\${name}`,
    falcon: name,
    sid: `S-1-5-21-3940915590-64593676-1414006259-${rid}`,
  };
}

export function makeHosts(rng: Rng): Host[] {
  const hosts: Host[] = [];
  for (let i = 0; i < HOST_COUNT; i++) {
    const linux = i >= HOST_COUNT - LINUX_HOST_COUNT;
    const role = rng.pick(HOST_ROLES);
    const name = linux
      ? `lnx-build-${String(i).padStart(3, '0')}`
      : i % 17 === 0
        ? `DESKTOP-${rng.hex(4).toUpperCase()}${rng.int(100, 999)}`
        : `${role}-${rng.pick(DEPARTMENTS)}-${String(i).padStart(3, '0')}`;
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const host: Host = {
      index: i,
      name,
      fqdn: linux ? name : `${name}.${DNS_SUFFIX}`,
      platform: linux ? 'Lin' : 'Win',
      aid: rng.hex(16),
      ip: `10.20.${i >> 6}.${(i & 63) + 10}`,
      guidPrefix: rng.hex(4),
      user: linux ? { sysmon: 'root', falcon: 'root', sid: '0' } : makeAccount(first, last),
      persistent: [],
      churn: [],
      procCounter: 0,
    };
    hosts.push(host);
  }
  return hosts;
}

const hashCache = new Map<string, Hashes>();
export function hashesOf(path: string): Hashes {
  let h = hashCache.get(path);
  if (!h) {
    h = {
      md5: stableHex(`md5:${path}`, 16).toUpperCase(),
      sha1: stableHex(`sha1:${path}`, 20).toUpperCase(),
      sha256: stableHex(`sha256:${path}`, 32).toUpperCase(),
      imphash: stableHex(`imp:${path}`, 16).toUpperCase(),
    };
    hashCache.set(path, h);
  }
  return h;
}

/** Loaded modules for Sysmon EventID 7 / Falcon ImageHash. */
export const DLLS: readonly Binary[] = [
  bin(`${SYS32}ntdll.dll`, 'ntdll.dll', 'NT Layer DLL'),
  bin(`${SYS32}kernel32.dll`, 'kernel32', 'Windows NT BASE API Client DLL'),
  bin(`${SYS32}KernelBase.dll`, 'Kernelbase.dll', 'Windows NT BASE API Client DLL'),
  bin(`${SYS32}advapi32.dll`, 'advapi32.dll', 'Advanced Windows 32 Base API'),
  bin(`${SYS32}wevtapi.dll`, 'wevtapi.dll', 'Eventing Consumption and Configuration API'),
  bin(`${SYS32}winhttp.dll`, 'winhttp.dll', 'Windows HTTP Services'),
  bin(`${SYS32}wininet.dll`, 'wininet.dll', 'Internet Extensions for Win32'),
  bin(`${SYS32}urlmon.dll`, 'UrlMon.dll', 'OLE32 Extensions for Win32'),
  bin(`${SYS32}crypt32.dll`, 'CRYPT32.DLL', 'Crypto API32'),
  bin(`${SYS32}bcrypt.dll`, 'bcrypt.dll', 'Windows Cryptographic Primitives Library'),
  bin(`${SYS32}dnsapi.dll`, 'dnsapi', 'DNS Client API DLL'),
  bin(`${SYS32}mswsock.dll`, 'mswsock.dll', 'Microsoft Windows Sockets 2.0 Service Provider'),
  bin(`${SYS32}amsi.dll`, 'amsi.dll', 'Anti-Malware Scan Interface'),
  bin(`${SYS32}clbcatq.dll`, 'CLBCATQ.DLL', 'COM+ Configuration Catalog'),
  bin(`${SYS32}uxtheme.dll`, 'UxTheme.dll', 'Microsoft UxTheme Library'),
  bin(`${SYS32}propsys.dll`, 'PROPSYS.DLL', 'Microsoft Property System'),
  bin(`${SYS32}combase.dll`, 'COMBASE.DLL', 'Microsoft COM for Windows'),
  bin(`${SYS32}windows.storage.dll`, 'Windows.Storage.dll', 'Microsoft WinRT Storage API'),
  bin(
    'C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\clr.dll',
    'clr.dll',
    'Microsoft .NET Runtime Common Language Runtime - WorkStation',
    'Microsoft® .NET Framework',
    'Microsoft Corporation',
    '4.8.4645.0 built by: NET48REL1LAST_B',
  ),
  bin(
    'C:\\Windows\\assembly\\NativeImages_v4.0.30319_64\\System.Management.A#\\4d93e4a1f4e5ea6e7fbc3d7b1ebf03c5\\System.Management.Automation.ni.dll',
    'System.Management.Automation.dll',
    'System.Management.Automation',
    'Microsoft (R) Windows (R) Operating System',
    'Microsoft Corporation',
    '10.0.19041.1',
  ),
];

/** Registry keys touched by noise (Sysmon 12/13, Falcon RegGenericValueUpdate). */
export const REGISTRY_KEYS = [
  'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WINEVT\\Publishers\\{5770385f-c22a-43e0-bf4c-06f5698ffbd9}',
  'HKLM\\System\\CurrentControlSet\\Services\\bam\\State\\UserSettings\\{sid}\\\\Device\\HarddiskVolume2\\Windows\\System32\\cmd.exe',
  'HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Explorer\\UserAssist\\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\\Count\\HRZR_PGYFRFFVBA',
  'HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\ZoneMap\\ProxyBypass',
  'HKU\\{sid}\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\ZoneMap\\IntranetName',
  'HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion\\Schedule\\TaskCache\\Tree\\Microsoft\\Windows\\UpdateOrchestrator\\Schedule Scan',
  'HKLM\\SOFTWARE\\Microsoft\\Windows Defender\\Signature Updates\\SignaturesLastUpdated',
  'HKU\\{sid}\\Software\\Microsoft\\Office\\16.0\\Common\\Internet\\WebServiceCache\\AllUsers\\officeclient.microsoft.com',
  'HKU\\{sid}\\Software\\Microsoft\\Office\\16.0\\Common\\Identity\\Identities\\a1b2c3d4_ADAL\\ProviderId',
  'HKLM\\SOFTWARE\\Microsoft\\Tracing\\powershell_RASAPI32\\EnableFileTracing',
  'HKU\\{sid}\\Software\\Google\\Chrome\\PreferenceMACs\\Default\\extensions.settings\\ghbmnnjooekpmoecnnnilnnbdlolhkhi',
];
/** Registry data: some of it names listed domains, which must never make an alert on its own. */
export const REGISTRY_DETAILS = [
  'DWORD (0x00000001)',
  'DWORD (0x00000000)',
  'QWORD (0x01da5c2e-0x8a3b1c00)',
  'Binary Data',
  'https://www.googleapis.com/auth/drive.file',
  'https://graph.microsoft.com/v1.0/me/drive',
  'https://raw.githubusercontent.com/corp-it/config/main/proxy.pac',
  '%%SystemRoot%%\\System32\\svchost.exe -k netsvcs -p',
  '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "%1"',
  'api.telegram.org;pastebin.com;discord.com',
];
/** Files written by noise (Sysmon 11, Falcon file events). */
export const FILE_TARGETS = [
  'C:\\Users\\{u}\\AppData\\Local\\Temp\\{r}.tmp',
  'C:\\Users\\{u}\\AppData\\Local\\Google\\Chrome\\User Data\\Default\\Cache\\Cache_Data\\f_{r}',
  'C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Edge\\User Data\\Default\\Code Cache\\js\\{r}_0',
  'C:\\Windows\\Prefetch\\SVCHOST.EXE-{R}.pf',
  'C:\\Windows\\Temp\\MpCmdRun.log',
  'C:\\ProgramData\\Microsoft\\Windows Defender\\Scans\\History\\Service\\DetectionHistory\\{r}',
  'C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Windows\\Recent\\AutomaticDestinations\\{r}.automaticDestinations-ms',
  'C:\\Users\\{u}\\Downloads\\report-{r}.pdf',
  'C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Windows\\INetCache\\IE\\{R}\\raw.githubusercontent.com[1].htm',
  'C:\\Users\\{u}\\AppData\\Local\\Packages\\Microsoft.Windows.Search_cw5n1h2txyewy\\LocalState\\DeviceSearchCache\\AppCache{r}.txt',
  'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\Modules\\PSReadLine\\{r}.psm1',
];
