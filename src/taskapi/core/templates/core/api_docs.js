"use strict";
// The docs page's script (drf-spectacular's page, ApiDocsView): Swagger UI over the contract.
//
// The contract's description is the API guide, several screens long. Rendered whole it pushed
// Authorize and the operations about 5,000 px down, so the page shows the guide's introduction
// and folds its sections (from the first "## " heading on) into one <details> whose summary
// names them. The contract itself is unchanged.

const FoldTheGuide = (system) => {
  const h = system.React.createElement;
  const guide = () => system.specSelectors.info().get("description") || "";
  return {
    wrapComponents: {
      Markdown: (Markdown) => (props) => {
        const source = guide();
        const start = source.search(/^## /m);
        if (props.source !== source || start < 0) {
          return h(Markdown, props);
        }
        const sections = [...source.slice(start).matchAll(/^## (.+)$/gm)].map((m) => m[1]);
        return h(
          "div",
          { className: "api-guide" },
          h(Markdown, { ...props, source: source.slice(0, start) }),
          h(
            "details",
            null,
            h("summary", { style: { cursor: "pointer" } }, `The API guide: ${sections.join(" · ")}`),
            h(Markdown, { ...props, source: source.slice(start) }),
          ),
        );
      },
    },
  };
};

const ui = SwaggerUIBundle({
  url: "{{ schema_url|escapejs }}",
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  plugins: [FoldTheGuide],
  layout: "BaseLayout",
  ...{{ settings|safe }},
});
