"""Response models of the API: one pydantic model per response, fields and descriptions in Spanish.

The field names are the client's contract: fields may be added, never renamed. Numbers are JSON
numbers at full precision; only the ``mensaje`` sentences round.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from movierec.api.fields import original_title_field, sentence_field, spanish_title_field, with_examples


class Coincidencia(BaseModel):
    """Otra película con el mismo título (normalizado)."""

    model_config = with_examples({"id": 10549, "titulo": "Hamlet", "anio": 1996})

    id: int = Field(description="Id de TMDB de la película.")
    titulo: str = Field(description="Título de la película.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None = Field(description="Año de estreno; con `?anio=` se elige esta película.")


class CantidadMes(BaseModel):
    model_config = with_examples(
        {
            "mes": "enero",
            "numero_mes": 1,
            "cantidad": 3656,
            "mensaje": "3656 cantidad de películas fueron estrenadas en el mes de enero",
        }
    )

    mes: str = Field(description="Mes consultado, con su nombre canónico en español.")
    numero_mes: int = Field(ge=1, le=12, description="Número del mes (1 = enero).")
    cantidad: int = Field(ge=0, description="Películas del catálogo estrenadas en ese mes, sumando todos los años.")
    mensaje: str = sentence_field()


class CantidadDia(BaseModel):
    model_config = with_examples(
        {
            "dia": "lunes",
            "numero_dia": 1,
            "cantidad": 2064,
            "mensaje": "2064 cantidad de películas fueron estrenadas en los días lunes",
        }
    )

    dia: str = Field(description="Día de la semana consultado, con su nombre canónico en español.")
    numero_dia: int = Field(ge=1, le=7, description="Día de la semana ISO (1 = lunes, 7 = domingo).")
    cantidad: int = Field(
        ge=0, description="Películas del catálogo estrenadas ese día de la semana, en todas las fechas."
    )
    mensaje: str = sentence_field()


class ScoreTitulo(BaseModel):
    model_config = with_examples(
        {
            "id": 862,
            "titulo": "Toy Story",
            "anio": 1995,
            "fecha_estreno": "1995-10-30",
            "popularidad": 21.946943,
            "coincidencias": [],
            "mensaje": "La película Toy Story fue estrenada en el año 1995 con un score/popularidad de 21.95",
        }
    )

    id: int = Field(description="Id de TMDB de la película encontrada.")
    titulo: str
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None = Field(description="Año de estreno.")
    fecha_estreno: str | None = Field(description="Fecha de estreno, AAAA-MM-DD.")
    popularidad: float | None = Field(description="Popularidad de TMDB (`popularity`).")
    coincidencias: list[Coincidencia] = Field(
        description="Las demás películas con el mismo título; `?anio=` elige entre ellas."
    )
    mensaje: str = sentence_field()


class VotosTitulo(BaseModel):
    model_config = with_examples(
        {
            "id": 862,
            "titulo": "Toy Story",
            "anio": 1995,
            "votos": 5415,
            "promedio": 7.7,
            "minimo_votos": 2000,
            "coincidencias": [],
            "mensaje": "La película Toy Story fue estrenada en el año 1995. La misma cuenta con un total de "
            "5415 valoraciones, con un promedio de 7.7",
        }
    )

    id: int = Field(description="Id de TMDB de la película encontrada.")
    titulo: str
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None = Field(description="Año de estreno.")
    votos: int = Field(ge=0, description="Cantidad de valoraciones (`vote_count`).")
    promedio: float | None = Field(
        description="Promedio de las valoraciones (`vote_average`); null si la película no alcanza `minimo_votos`."
    )
    minimo_votos: int = Field(description="Valoraciones necesarias para informar el promedio.")
    coincidencias: list[Coincidencia] = Field(
        description="Las demás películas con el mismo título; `?anio=` elige entre ellas."
    )
    mensaje: str = sentence_field()


class Homonimo(BaseModel):
    """Otra persona con el mismo nombre (normalizado); la respuesta corresponde a la de más películas."""

    id: int = Field(description="Id de persona de TMDB.")
    nombre: str
    cantidad_peliculas: int


class Actor(BaseModel):
    model_config = with_examples(
        {
            "actor": "Tom Hanks",
            "id": 31,
            "cantidad_peliculas": 36,
            "retorno_total": 95.3,
            "retorno_promedio": 2.647,
            "homonimos": [],
            "mensaje": "El actor Tom Hanks ha participado de 36 cantidad de filmaciones, el mismo ha conseguido "
            "un retorno de 95.30 con un promedio de 2.65 por filmación",
        }
    )

    actor: str = Field(description="Nombre del actor o actriz, como figura en los créditos.")
    id: int = Field(description="Id de persona de TMDB.")
    cantidad_peliculas: int = Field(
        ge=1, description="Películas del catálogo en cuyo reparto figura (una vez cada una)."
    )
    retorno_total: float = Field(description="Suma del retorno (ingresos / presupuesto) de esas películas.")
    retorno_promedio: float = Field(description="retorno_total / cantidad_peliculas.")
    homonimos: list[Homonimo] = Field(description="Otras personas con el mismo nombre, no contadas aquí.")
    mensaje: str = sentence_field()


class PeliculaDirector(BaseModel):
    id: int
    titulo: str | None
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    fecha_estreno: str | None = Field(description="Fecha de estreno, AAAA-MM-DD.")
    retorno: float = Field(description="Ingresos / presupuesto; 0 si alguno de los dos es desconocido.")
    costo: int = Field(description="Presupuesto (`budget`), en dólares; 0 si es desconocido.")
    ganancia: int | None = Field(
        description="Ingresos menos presupuesto (`revenue` − `budget`); null si los "
        "ingresos o el presupuesto son desconocidos (0)."
    )


class Director(BaseModel):
    model_config = with_examples(
        {
            "director": "John Lasseter",
            "id": 7879,
            "cantidad_peliculas": 1,
            "retorno_total": 12.4518011,
            "retorno_promedio": 12.4518011,
            "homonimos": [],
            "peliculas": [
                {
                    "id": 862,
                    "titulo": "Toy Story",
                    "fecha_estreno": "1995-10-30",
                    "retorno": 12.4518011,
                    "costo": 30000000,
                    "ganancia": 343554033,
                }
            ],
            "mensaje": "El director John Lasseter ha dirigido 1 películas, con un retorno total de 12.45 "
            "y un promedio de 12.45 por película",
        }
    )

    director: str = Field(description="Nombre del director o directora, como figura en los créditos.")
    id: int = Field(description="Id de persona de TMDB.")
    cantidad_peliculas: int = Field(
        ge=1, description="Películas del catálogo en las que figura con el puesto «Director»."
    )
    retorno_total: float = Field(description="Suma del retorno de esas películas.")
    retorno_promedio: float = Field(description="retorno_total / cantidad_peliculas.")
    peliculas: list[PeliculaDirector] = Field(description="Sus películas, por fecha de estreno.")
    homonimos: list[Homonimo] = Field(description="Otras personas con el mismo nombre, no contadas aquí.")
    mensaje: str = sentence_field()


class PeliculaRecomendada(BaseModel):
    id: int = Field(description="Id de TMDB; `/peliculas/{id}/recomendaciones` la encuentra.")
    titulo: str = Field(description="Título; `/recomendacion/{titulo}?anio=` la encuentra.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None
    puntaje: float = Field(description="Similitud según el modelo de la versión publicada (mayor es más parecida).")


class Recomendacion(BaseModel):
    model_config = with_examples(
        {
            "id": 862,
            "titulo": "Toy Story",
            "anio": 1995,
            "coincidencias": [],
            "recomendaciones": [
                "Toy Story 2",
                "Small Soldiers",
                "The 40 Year Old Virgin",
                "Rebel Without a Cause",
                "Factory Girl",
            ],
            "peliculas": [{"id": 863, "titulo": "Toy Story 2", "anio": 1999, "puntaje": 0.5}],
        }
    )

    id: int = Field(description="Id de TMDB de la película consultada.")
    titulo: str | None = Field(description="Título de la película consultada.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None
    recomendaciones: list[str] = Field(description="Títulos de las películas recomendadas, la mejor primero.")
    peliculas: list[PeliculaRecomendada] = Field(description="Las mismas recomendaciones, con id, año y puntaje.")
    coincidencias: list[Coincidencia] = Field(
        default_factory=list, description="Las demás películas con el mismo título (consulta por título)."
    )


class PeliculaBase(BaseModel):
    """Una de las películas que la persona indicó que le gustaron, tal como se entendió."""

    id: int = Field(description="Id de TMDB.")
    titulo: str
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None


class PeliculaPersonal(BaseModel):
    id: int = Field(description="Id de TMDB; `/peliculas/{id}/recomendaciones` la encuentra.")
    titulo: str = Field(description="Título; `/recomendacion/{titulo}?anio=` la encuentra.")
    titulo_original: str | None = original_title_field()
    titulo_es: str | None = spanish_title_field()
    anio: int | None
    puntaje: float = Field(
        description="Puntaje según el modelo de la versión publicada (mayor es mejor; "
        "0 para las que solo completan la lista por popularidad)."
    )
    porque: str = Field(
        description="La película indicada que más aportó a la recomendación "
        "(«porque te gustó …»), o «porque es de las más votadas»."
    )


class NoEncontrado(BaseModel):
    entrada: str = Field(description="Lo que se recibió: el título, o `id=…`.")
    sugerencias: list[str] = Field(
        description="Hasta 5 títulos parecidos; con año, «Título (AAAA)», cuando el título existe en otros años."
    )


class RecomendacionUsuario(BaseModel):
    model_config = with_examples(
        {
            "peliculas_base": [
                {"id": 862, "titulo": "Toy Story", "anio": 1995},
                {"id": 949, "titulo": "Heat", "anio": 1995},
            ],
            "recomendaciones": ["Toy Story 2", "Star Wars"],
            "peliculas": [
                {
                    "id": 863,
                    "titulo": "Toy Story 2",
                    "anio": 1999,
                    "puntaje": 0.31,
                    "porque": "porque te gustó Toy Story",
                }
            ],
            "no_encontrados": [{"entrada": "Toy Stori 9", "sugerencias": ["Toy Story"]}],
            "repetidos": [],
        }
    )

    peliculas_base: list[PeliculaBase] = Field(
        description="Las películas indicadas que se encontraron, sin repetir, en el orden recibido."
    )
    recomendaciones: list[str] = Field(
        description="Títulos de las 10 películas recomendadas, la mejor primero; nunca una de las indicadas."
    )
    peliculas: list[PeliculaPersonal] = Field(
        description="Las mismas recomendaciones, con id, año, puntaje y la película indicada que más aportó."
    )
    no_encontrados: list[NoEncontrado] = Field(description="Entradas que no se encontraron, con sugerencias.")
    repetidos: list[str] = Field(description="Entradas que nombran una película ya indicada (se cuenta una vez).")


class ErrorNingunaEncontrada(BaseModel):
    model_config = with_examples(
        {
            "detail": "No se encontró ninguna de las películas indicadas.",
            "sugerencias": ["Toy Story"],
            "coincidencias": [],
            "no_encontrados": [{"entrada": "Toy Stori 9", "sugerencias": ["Toy Story"]}],
        }
    )

    detail: str = Field(description="Qué no se encontró, en español.")
    sugerencias: list[str] = Field(description="Hasta 5 títulos parecidos (de todas las entradas).")
    coincidencias: list[Coincidencia] = Field(default_factory=list, description="Siempre vacía aquí.")
    no_encontrados: list[NoEncontrado] = Field(description="Cada entrada, con sus sugerencias.")


class Salud(BaseModel):
    model_config = with_examples(
        {
            "status": "ok",
            "version": "20250101T000000000000Z",
            "peliculas": 45421,
            "version_codigo": "0.1.0",
            "titulos_es": 41000,
            "titulos_originales": 11500,
        }
    )

    status: str = Field(description="`ok` cuando el catálogo está cargado.")
    version: str = Field(description="Versión publicada (release) que se está sirviendo.")
    peliculas: int = Field(description="Películas del catálogo.")
    version_codigo: str | None = Field(default=None, description="Versión del código que publicó la release.")
    titulos_es: int = Field(
        default=0,
        ge=0,
        description="Películas con un título en español conocido (de TMDB; 0 "
        "en una versión publicada sin acceso a TMDB).",
    )
    titulos_originales: int = Field(
        default=0, ge=0, description="Películas cuyo título original difiere del título del catálogo."
    )


class ErrorNoEncontrado(BaseModel):
    model_config = with_examples(
        {"detail": "No se encontró la película «Toy Stori».", "sugerencias": ["Toy Story"], "coincidencias": []}
    )

    detail: str = Field(description="Qué no se encontró, en español.")
    sugerencias: list[str] = Field(description="Hasta 5 títulos o nombres parecidos.")
    coincidencias: list[Coincidencia] = Field(
        default_factory=list, description="Películas con ese título en otros años (cuando `?anio=` no coincide)."
    )


class ErrorCampo(BaseModel):
    campo: str = Field(description="Parámetro con el valor inválido.")
    mensaje: str = sentence_field()


class ErrorValidacion(BaseModel):
    model_config = with_examples(
        {
            "detail": "«marz» no es un mes válido. Valores válidos: enero, febrero, marzo, abril, mayo, junio, "
            "julio, agosto, septiembre (o setiembre), octubre, noviembre, diciembre.",
            "valores_validos": ["enero", "febrero", "marzo"],
            "errores": [],
        }
    )

    detail: str = Field(description="Qué está mal en la petición, en español.")
    valores_validos: list[str] = Field(
        default_factory=list, description="Valores aceptados, cuando son una lista cerrada."
    )
    errores: list[ErrorCampo] = Field(default_factory=list, description="Un mensaje por parámetro inválido.")


class ErrorHttp(BaseModel):
    """Una respuesta de error con solo el mensaje: las del borde HTTP (400, 408, 414, 431, 501) y la 500."""

    model_config = with_examples({"detail": "La URL supera los 16384 bytes que admite el servidor."})

    detail: str = Field(description="Qué pasó, en español.")
