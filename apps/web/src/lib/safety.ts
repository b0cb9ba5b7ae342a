/** Safety numbers as people compare them: 60 digits in 12 groups of 5. */
export function safetyGroups(digits: string): string[] {
  if (!/^[0-9]{60}$/.test(digits)) throw new RangeError('a safety number has exactly 60 digits');
  const groups: string[] = [];
  for (let i = 0; i < 60; i += 5) groups.push(digits.slice(i, i + 5));
  return groups;
}
