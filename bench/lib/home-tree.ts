/** The benchmarks' big tilde: N homes × 20 files in 3 subfolders (4 directories per home, 20 files). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const HOME_FOLDERS = ["public_html", "projects", "notes"] as const;

/** The i-th user's name (u00000, u00001, …): homes sort in creation order. */
export const benchUser = (i: number): string => `u${String(i).padStart(5, "0")}`;

/** Makes `root` and `homes` home directories in it. */
export function makeHomeTree(root: string, homes: number): void {
  mkdirSync(root);
  for (let i = 0; i < homes; i++) {
    const home = join(root, benchUser(i));
    mkdirSync(home);
    for (let f = 0; f < 20; f++) {
      const dir = join(home, HOME_FOLDERS[f % 3]!);
      if (f < 3) mkdirSync(dir);
      writeFileSync(join(dir, `file${f}.txt`), `file ${f} of ${benchUser(i)}\n`);
    }
  }
}
