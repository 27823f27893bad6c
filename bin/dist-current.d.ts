/** 'current', 'missing' or 'stale': whether bin/crosstown.js runs dist/ (see dist-current.js). */
export function distState(root: string): 'current' | 'missing' | 'stale';
