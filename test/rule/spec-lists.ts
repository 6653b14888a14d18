/**
 * The lists of SPEC §1, transcribed from the spec (not from the rule file), so the tests check the
 * rule file and the matcher against the contract.
 */

export const SPEC_DOMAINS = [
  'pastebin.com',
  'paste.ee',
  'ghostbin.co',
  'api.github.com',
  'raw.githubusercontent.com',
  'gist.github.com',
  'graph.microsoft.com',
  'onedrive.live.com',
  'api.onedrive.com',
  'googleapis.com',
  'drive.google.com',
  'api.dropboxapi.com',
  'content.dropboxapi.com',
  'discord.com',
  'discordapp.com',
  'cdn.discordapp.com',
  'api.telegram.org',
  'slack.com',
  'api.slack.com',
  'firebaseio.com',
  'firebase.googleapis.com',
  'api.notion.so',
  'api.notion.com',
  'gitee.com',
  'top4top.io',
] as const;

export const SPEC_EXCLUDED_CLIENTS = [
  'chrome.exe',
  'firefox.exe',
  'msedge.exe',
  'iexplore.exe',
  'safari.exe',
  'opera.exe',
  'brave.exe',
  'onedrive.exe',
  'onedrivesetup.exe',
  'googledrivesync.exe',
  'dropbox.exe',
  'slack.exe',
  'teams.exe',
  'microsoftteams.exe',
  'ms-teams.exe',
  'discord.exe',
] as const;

/** Windows suspicious processes, seeds plus wmic/msxsl/cmstp. */
export const SPEC_SUSPICIOUS_WINDOWS = [
  'powershell.exe',
  'pwsh.exe',
  'cmd.exe',
  'wscript.exe',
  'cscript.exe',
  'mshta.exe',
  'rundll32.exe',
  'regsvr32.exe',
  'certutil.exe',
  'bitsadmin.exe',
  'curl.exe',
  'wget.exe',
  'python.exe',
  'python3.exe',
  'ruby.exe',
  'perl.exe',
  'node.exe',
  'wmic.exe',
  'msxsl.exe',
  'cmstp.exe',
] as const;

/** Linux and macOS suspicious processes, without the versioned python3.N. */
export const SPEC_SUSPICIOUS_POSIX = [
  'curl',
  'wget',
  'python',
  'python3',
  'perl',
  'ruby',
  'node',
  'osascript',
] as const;

/** How the rule file encodes "versioned python3.N": `python3.` then one or more digits. */
export const VERSIONED_PYTHON3_ENTRY = 'python3.*';

export const SPEC_OFFICE_PARENTS = [
  'winword.exe',
  'excel.exe',
  'powerpnt.exe',
  'outlook.exe',
  'acrobat.exe',
  'acrord32.exe',
] as const;
