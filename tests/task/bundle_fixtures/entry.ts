// A module with a relative import and an npm import, bundled by tests/task/bundle.test.ts.
import { strToU8, zlibSync, unzlibSync, strFromU8 } from "npm:fflate@^0.8.3";
import { greeting } from "./greeting.ts";

/** Round-trips `name`'s greeting through zlib (so the npm package runs on the worker). */
export function greet(name: string): string {
  return strFromU8(unzlibSync(zlibSync(strToU8(greeting(name)))));
}

export const notAFunction = 42;
