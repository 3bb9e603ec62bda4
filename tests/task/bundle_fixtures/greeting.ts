/** The greeting `entry.ts` compresses and back. */
export function greeting(name: string): string {
  return `hello, ${name}`;
}
