import { assert } from "../tests/_harness/assert.ts";
import { BUNDLE_PATH, pageBundleModule } from "./bundle_status_page.ts";

Deno.test("src/http/page_bundle.ts is what scripts/bundle_status_page.ts makes of src/http/page/", async () => {
  const committed = await Deno.readTextFile(BUNDLE_PATH);
  const fresh = await pageBundleModule();
  assert(
    committed === fresh,
    "src/http/page_bundle.ts is out of date: run deno run -A scripts/bundle_status_page.ts",
  );
});
