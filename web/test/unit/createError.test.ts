// The landing page's explanations of a refused POST /api/docs, in particular the per-owner cap.
import { describe, expect, it } from "vitest";
import { createErrorMessage } from "../../src/pages/createError";

describe("creating a document: refusals the landing page explains", () => {
  it("explains the per-owner cap instead of showing the server's detail", () => {
    const message = createErrorMessage(403, undefined, { code: "too_many_documents", detail: "you have created 1000 documents, …" });
    expect(message).toContain("as many documents as this server allows");
    expect(message).not.toContain("403");
  });

  it("keeps the name in a conflict, the operator-only rule, and the server's detail otherwise", () => {
    expect(createErrorMessage(409, "notes", null)).toContain("“notes” exists already");
    expect(createErrorMessage(401, undefined, null)).toContain("only its operators");
    expect(createErrorMessage(403, undefined, { code: "forbidden", detail: "no" })).toBe("Could not create the document: no.");
    expect(createErrorMessage(500, undefined, null)).toBe("Could not create the document: the server answered 500.");
  });
});
