"use strict";
// Suggestions as one types (GET /sugerencias), and "mi lista": liked films kept in localStorage,
// sent to GET /recomendacion_usuario for personal picks. The page works without this script:
// the search form and the film links are plain GETs the server renders.
(() => {
  const $ = (id) => document.getElementById(id);

  function element(tag, text, attributes) {
    const node = document.createElement(tag);
    if (text !== undefined) node.textContent = text;
    for (const [name, value] of Object.entries(attributes || {})) node.setAttribute(name, value);
    return node;
  }

  // The title in the language the server prefers (MOVIEREC_TITLE_LANGUAGE), the catalogue title
  // beside it: «El padrino — The Godfather», as the page the server renders names a film.
  const language = document.body.dataset.idiomaTitulos || "es";

  function filmLabel(film) {
    const shown = (language === "es" ? film.titulo_es : language === "original" ? film.titulo_original : null)
      || film.titulo;
    return shown && film.titulo && shown !== film.titulo ? shown + " — " + film.titulo : shown || film.titulo;
  }

  function filmItem(film) {  // <li><span><a>title</a> (year)</span></li>
    const label = element("span");
    label.append(element("a", filmLabel(film), { href: "/?id=" + encodeURIComponent(film.id) }));
    label.append(" ", element("span", "(" + (film.anio || "año desconocido") + ")", { class: "anio" }));
    const item = element("li");
    item.append(label);
    return item;
  }

  // -- suggestions: a combobox (WAI-ARIA pattern), arrows to move, Enter to open, Escape to close
  const input = $("q");
  const box = $("sugerencias");
  const announce = $("estado-sugerencias");
  let suggestions = [];
  let active = -1;
  let timer = 0;
  let pending = null;

  function close() {
    suggestions = [];
    active = -1;
    box.replaceChildren();
    box.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function highlight(index) {
    active = index;
    box.querySelectorAll("li").forEach((item, i) => item.setAttribute("aria-selected", String(i === index)));
    if (index >= 0) input.setAttribute("aria-activedescendant", "sugerencia-" + index);
    else input.removeAttribute("aria-activedescendant");
  }

  function open(index) {
    window.location.href = "/?id=" + encodeURIComponent(suggestions[index].id);
  }

  function show(list) {
    close();
    suggestions = list;
    list.forEach((film, i) => {
      const item = element("li", filmLabel(film) + " (" + (film.anio || "año desconocido") + ")",
                           { id: "sugerencia-" + i, role: "option", "aria-selected": "false" });
      item.addEventListener("mousedown", (event) => { event.preventDefault(); open(i); });
      box.append(item);
    });
    box.hidden = list.length === 0;
    input.setAttribute("aria-expanded", String(list.length > 0));
    announce.textContent = list.length
      ? list.length + " sugerencias; use las flechas para elegir y Intro para abrir."
      : "Sin sugerencias.";
  }

  async function suggest() {
    const query = input.value.trim();
    if (pending) pending.abort();
    if (!query) { close(); return; }
    pending = new AbortController();
    try {
      const response = await fetch("/sugerencias?q=" + encodeURIComponent(query), { signal: pending.signal });
      if (!response.ok) { close(); return; }
      const body = await response.json();
      if (input.value.trim() === query) show(body.sugerencias || []);
    } catch (error) {
      if (error.name !== "AbortError") close();
    }
  }

  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 80); });
  input.addEventListener("keydown", (event) => {
    const count = suggestions.length;
    if (event.key === "ArrowDown" && count) {
      event.preventDefault();
      highlight((active + 1) % count);
    } else if (event.key === "ArrowUp" && count) {
      event.preventDefault();
      highlight(active <= 0 ? count - 1 : active - 1);
    } else if (event.key === "Enter" && active >= 0) {
      event.preventDefault();  // else the form searches the typed text
      open(active);
    } else if (event.key === "Escape") {
      close();
    }
  });
  input.addEventListener("blur", () => setTimeout(close, 150));

  // -- mi lista ---------------------------------------------------------------------------
  const KEY = "movierec.mi_lista";
  const MAX_FILMS = 50;  // what /recomendacion_usuario accepts
  const section = $("mi-lista");
  const listNode = $("lista");
  const empty = $("lista-vacia");
  const picks = $("personales");
  const status = $("estado-personales");
  const add = $("anadir");
  let asked = 0;

  function readList() {
    try {
      const value = JSON.parse(localStorage.getItem(KEY) || "[]");
      return Array.isArray(value) ? value.filter((film) => film && Number.isInteger(film.id)) : [];
    } catch (error) {
      return [];
    }
  }

  function writeList(list) {
    try {
      localStorage.setItem(KEY, JSON.stringify(list));
    } catch (error) {
      status.textContent = "Este navegador no permite guardar la lista.";
    }
    render();
  }

  function because(value) {
    const text = String((value && typeof value === "object" ? value.titulo : value) || "").trim();
    if (!text) return "";
    return /^porque\b/i.test(text) ? text : "porque te gustó " + text;
  }

  async function loadPicks(list) {
    const ask = ++asked;  // a newer list's answer wins over an older one's
    picks.replaceChildren();
    if (!list.length) {
      status.textContent = "Añada películas para recibir recomendaciones.";
      return;
    }
    status.textContent = "Buscando recomendaciones…";
    const query = list.map((film) => "id=" + encodeURIComponent(film.id)).join("&");
    let response;
    let body = null;
    try {
      response = await fetch("/recomendacion_usuario?" + query, { headers: { Accept: "application/json" } });
      body = await response.json();
    } catch (error) {
      if (ask === asked) status.textContent = "No se pudieron obtener las recomendaciones.";
      return;
    }
    if (ask !== asked) return;
    if (!response.ok) {
      status.textContent = (body && typeof body.detail === "string") ? body.detail
        : "No se pudieron obtener las recomendaciones (error " + response.status + ").";
      return;
    }
    const films = Array.isArray(body.peliculas) ? body.peliculas : [];
    for (const film of films) {
      const item = filmItem(film);
      const reason = because(film.porque);
      if (reason) item.append(element("span", reason, { class: "porque" }));
      picks.append(item);
    }
    const missing = Array.isArray(body.no_encontrados) ? body.no_encontrados.length : 0;
    status.textContent = films.length + " recomendaciones para su lista"
      + (missing ? " (" + missing + " de sus películas ya no están en el catálogo)." : ".");
  }

  function render() {
    const list = readList();
    listNode.replaceChildren();
    for (const film of list) {
      const item = filmItem(film);
      const remove = element("button", "Quitar", { type: "button", class: "secundario",
                                                  "aria-label": "Quitar " + film.titulo + " de mi lista" });
      remove.addEventListener("click", () => writeList(readList().filter((other) => other.id !== film.id)));
      item.append(remove);
      listNode.append(item);
    }
    empty.hidden = list.length > 0;
    if (add) {
      const listed = list.some((film) => film.id === Number(add.dataset.id));
      add.textContent = listed ? "Quitar de mi lista" : "Añadir a mi lista";
      add.setAttribute("aria-pressed", String(listed));
      add.disabled = !listed && list.length >= MAX_FILMS;
    }
    loadPicks(list);
  }

  if (add) {
    add.hidden = false;
    add.addEventListener("click", () => {
      const id = Number(add.dataset.id);
      const list = readList();
      if (list.some((film) => film.id === id)) writeList(list.filter((film) => film.id !== id));
      else writeList([...list, { id, titulo: add.dataset.titulo, anio: Number(add.dataset.anio) || null }]);
    });
  }
  window.addEventListener("storage", (event) => { if (event.key === KEY) render(); });
  section.hidden = false;
  // The note for browsers without JavaScript is hidden here rather than put in <noscript>: a
  // script blocked by a policy or an extension then leaves it showing too.
  $("sin-script").hidden = true;
  render();
})();
