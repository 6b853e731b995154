export function catalogKeyProblems(root: string): string[];
